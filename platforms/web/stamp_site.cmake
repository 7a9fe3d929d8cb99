# Run after the web app links (cmake -P, from platforms/web/CMakeLists.txt): copies the page's
# files next to the app and writes the service worker with a version that changes whenever any
# file it caches changes. Arguments: -DSRC=platforms/web/site -DICON=... -DSITE=<build>/web
foreach(f index.html shell.js touch.js manifest.json)
  configure_file("${SRC}/${f}" "${SITE}/${f}" COPYONLY)
endforeach()
configure_file("${ICON}" "${SITE}/clusterkit.svg" COPYONLY)
set(hashes "")
foreach(f index.html shell.js touch.js manifest.json clusterkit.svg clusterkit.js clusterkit.wasm clusterkit.worker.js clusterkit.data)
  file(SHA256 "${SITE}/${f}" h)
  string(APPEND hashes "${h}")
endforeach()
string(SHA256 CK_WEB_VERSION "${hashes}")
string(SUBSTRING "${CK_WEB_VERSION}" 0 16 CK_WEB_VERSION)
configure_file("${SRC}/sw.js.in" "${SITE}/sw.js" @ONLY)
