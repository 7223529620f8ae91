# Compiler options shared by every target of the project, through the interface target
# backout_options. Third-party headers are included as SYSTEM so -Werror applies to our code only.
add_library(backout_options INTERFACE)
target_compile_options(backout_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  # Designated initializers leave the other members at their defaults on purpose.
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # g++ 12 gives false positives for these inside the standard library at -O2.
  target_compile_options(backout_options INTERFACE -Wno-maybe-uninitialized -Wno-array-bounds
    -Wno-stringop-overflow -Wno-restrict -Wno-null-dereference)
endif()
if(BACKOUT_WERROR)
  target_compile_options(backout_options INTERFACE -Werror)
endif()
if(BACKOUT_SANITIZE)
  string(REPLACE ";" "," _san "${BACKOUT_SANITIZE}")
  target_compile_options(backout_options INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(backout_options INTERFACE -fsanitize=${_san})
endif()

# Adds a library target for one top-level folder: sources from src/ (recursively), public
# headers from include/, an alias agent::<name>.
function(backout_library name)
  file(GLOB_RECURSE _src CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cc)
  add_library(backout_${name} STATIC ${_src})
  add_library(agent::${name} ALIAS backout_${name})
  target_include_directories(backout_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(backout_${name} PRIVATE backout_options)
endfunction()
