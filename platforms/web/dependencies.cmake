# Included by the top-level CMakeLists.txt in an emscripten build (`emcmake cmake`): points
# find_package() and pkg-config at the WebAssembly sysroot made by platforms/web/build-deps, so
# the project's own find calls and targets stay as they are on desktop.
set(CK_WEB_SYSROOT "${PROJECT_SOURCE_DIR}/build/web-deps/sysroot"
    CACHE PATH "The WebAssembly libraries made by platforms/web/build-deps")
if(NOT EXISTS "${CK_WEB_SYSROOT}/lib/libsqlite3.a" OR NOT EXISTS "${CK_WEB_SYSROOT}/lib/libimgui.a")
  message(FATAL_ERROR "No WebAssembly libraries in ${CK_WEB_SYSROOT}: run scripts/install-deps --web "
                      "and platforms/web/build-deps first (or set CK_WEB_SYSROOT)")
endif()
# The emscripten toolchain searches only below its find roots: the sysroot becomes one.
list(APPEND CMAKE_FIND_ROOT_PATH "${CK_WEB_SYSROOT}")
list(APPEND CMAKE_PREFIX_PATH "${CK_WEB_SYSROOT}")

# Threads in every object (the app's background work runs on threads: SharedArrayBuffer in the
# browser, so the page must be cross-origin isolated, see README.md).
add_compile_options(-pthread)
add_link_options(-pthread)
# emscripten 3.1.6's libc++ 13 lacks the floating-point <charconv> that core/ uses: the
# compat folder's <charconv> adds it (see that file).
include_directories(BEFORE SYSTEM "${PROJECT_SOURCE_DIR}/platforms/web/compat")
# C++ exceptions: emscripten disables catching them unless asked; the app catches storage and
# parse failures (STYLE.md, "three tiers of failure").
add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fexceptions>)
add_link_options(-fexceptions)

# Dear ImGui as build-deps compiled it (with its own stb, and the GLFW + OpenGL 3 backends):
# defined here so app/ui does not look for Debian's libimgui.a and libstb.
add_library(imgui::imgui STATIC IMPORTED GLOBAL)
set_target_properties(imgui::imgui PROPERTIES
  IMPORTED_LOCATION "${CK_WEB_SYSROOT}/lib/libimgui.a"
  INTERFACE_INCLUDE_DIRECTORIES "${CK_WEB_SYSROOT}/include/imgui;${CK_WEB_SYSROOT}/include/imgui/backends")

# Debian's emscripten runs its JS optimiser with the node on PATH, which must find Debian's
# acorn (/usr/share/nodejs); a node installed from elsewhere does not look there by itself.
execute_process(COMMAND node -e "require('acorn')" RESULT_VARIABLE CK_NODE_FINDS_ACORN OUTPUT_QUIET ERROR_QUIET)
if(NOT CK_NODE_FINDS_ACORN EQUAL 0)
  set(CMAKE_CXX_LINKER_LAUNCHER ${CMAKE_COMMAND} -E env NODE_PATH=/usr/share/nodejs)
  set(CMAKE_C_LINKER_LAUNCHER ${CMAKE_COMMAND} -E env NODE_PATH=/usr/share/nodejs)
endif()

# stb_image (core/template/template_media.cpp reads a template's PNG and JPEG images): Debian's
# libstb-dev header, its implementation compiled here, since Debian's libstb is native code.
# (Without it the web configure stops at core/template's find_library.)
if(NOT TARGET ck_web_stb)
  set(CK_WEB_STB_DIR "${CMAKE_BINARY_DIR}/web-stb")
  configure_file(/usr/include/stb/stb_image.h "${CK_WEB_STB_DIR}/stb/stb_image.h" COPYONLY)
  file(WRITE "${CK_WEB_STB_DIR}/stb_image.c" "#define STB_IMAGE_IMPLEMENTATION\n#include \"stb/stb_image.h\"\n")
  add_library(ck_web_stb STATIC "${CK_WEB_STB_DIR}/stb_image.c")
  target_include_directories(ck_web_stb SYSTEM PUBLIC "${CK_WEB_STB_DIR}")
  set(CK_STB_LIBRARY ck_web_stb CACHE STRING "stb_image for the web build (dependencies.cmake)" FORCE)
endif()
