# Sanitizer builds apply to everything in the tree (library, tests, examples), so that the
# whole suite runs under them.
if(MONGOSLICE_SANITIZE STREQUAL "address")
  # GCC's -fsanitize=undefined leaves out float-cast-overflow (a double converted to an integer
  # that cannot hold it, as a peer's 1e300 would be), so it is named on its own. With recovery
  # off, every check stops the program at its first report instead of printing and going on.
  add_compile_options(-fsanitize=address,undefined,float-cast-overflow
                      -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined,float-cast-overflow)
elseif(MONGOSLICE_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT MONGOSLICE_SANITIZE STREQUAL "")
  message(FATAL_ERROR "MONGOSLICE_SANITIZE must be '', 'address' or 'thread'")
endif()
