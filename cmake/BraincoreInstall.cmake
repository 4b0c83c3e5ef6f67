# Installation: headers, the shared and static libraries, braincore.pc and a
# CMake package (find_package(braincore) -> braincore::braincore).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
	FILES_MATCHING PATTERN "*.h")

install(TARGETS braincore braincore_static
	EXPORT braincoreTargets
	LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
	ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
	RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
	INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# The word table of the built-in embedder's semantic lift and its licence
# notices (data/NOTICE); the library looks for it here (organs/CMakeLists.txt).
if(BRAINCORE_INSTALL_WORDS)
	install(FILES ${PROJECT_SOURCE_DIR}/data/words.bin ${PROJECT_SOURCE_DIR}/data/NOTICE
		DESTINATION ${CMAKE_INSTALL_DATADIR}/braincore)
endif()

install(EXPORT braincoreTargets
	NAMESPACE braincore::
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/braincore)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/braincoreConfig.cmake.in
	${PROJECT_BINARY_DIR}/braincoreConfig.cmake
	INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/braincore)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/braincoreConfigVersion.cmake
	VERSION ${PROJECT_VERSION}
	COMPATIBILITY SameMajorVersion)
install(FILES
	${PROJECT_BINARY_DIR}/braincoreConfig.cmake
	${PROJECT_BINARY_DIR}/braincoreConfigVersion.cmake
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/braincore)

# pkg-config: paths relative to the .pc file's own place (${pcfiledir}), so
# that the installed tree works wherever it lands (--prefix at install time,
# DESTDIR, relocatable packages).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
	set(BRAIN_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
	set(BRAIN_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
	set(BRAIN_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
	file(RELATIVE_PATH BRAIN_PC_UP "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
	string(REGEX REPLACE "/$" "" BRAIN_PC_UP "${BRAIN_PC_UP}")
	set(BRAIN_PC_PREFIX "\${pcfiledir}/${BRAIN_PC_UP}")
	set(BRAIN_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
	set(BRAIN_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/pkgconfig/braincore.pc.in
	${PROJECT_BINARY_DIR}/braincore.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/braincore.pc
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The build tree's own .pc, for what builds against braincore before it is
# installed (the Rust binding's tests): pkg-config takes NAME-uninstalled.pc
# over NAME.pc when PKG_CONFIG_PATH holds this directory.
set(BRAIN_PC_PREFIX "${PROJECT_BINARY_DIR}")
set(BRAIN_PC_LIBDIR "${PROJECT_BINARY_DIR}")
set(BRAIN_PC_INCLUDEDIR "${PROJECT_SOURCE_DIR}/include")
configure_file(${PROJECT_SOURCE_DIR}/pkgconfig/braincore.pc.in
	${PROJECT_BINARY_DIR}/braincore-uninstalled.pc @ONLY)
