# `cmake --install` puts the headers under include/mongoslice/<layer>/, the static library, a
# CMake package (find_package(mongoslice) gives mongoslice::mongoslice, dependencies found) and
# a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

foreach(layer IN LISTS MONGOSLICE_LAYERS)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mongoslice/${layer}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/mongoslice.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mongoslice
        OPTIONAL)

install(TARGETS mongoslice EXPORT mongosliceTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT mongosliceTargets NAMESPACE mongoslice::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mongoslice)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mongosliceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mongosliceConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mongoslice)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mongosliceConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mongosliceConfig.cmake
              ${PROJECT_BINARY_DIR}/mongosliceConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mongoslice)

# The .pc file finds the prefix relative to itself (lib/pkgconfig -> ../.., or three levels for
# Debian's multiarch lib/x86_64-linux-gnu/pkgconfig).
file(RELATIVE_PATH MONGOSLICE_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/mongoslice.pc.in ${PROJECT_BINARY_DIR}/mongoslice.pc
               @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mongoslice.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
