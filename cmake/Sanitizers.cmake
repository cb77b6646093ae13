# Sanitizer builds apply to everything in the tree (library, tests, examples), so that the
# whole suite runs under them.
if(MONGOSLICE_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(MONGOSLICE_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT MONGOSLICE_SANITIZE STREQUAL "")
  message(FATAL_ERROR "MONGOSLICE_SANITIZE must be '', 'address' or 'thread'")
endif()
