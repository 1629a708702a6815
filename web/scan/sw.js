// The scanner's service worker: keeps the app's own files so it opens with no network.
// Each file is answered from the cache at once and refreshed from the gateway behind it; API calls and the
// socket are never touched here.
const CACHE = "lango-scan-v1";
const SHELL = [
  "./", "app.css", "manifest.webmanifest", "icon.svg", "icon-192.png", "icon-512.png",
  "js/main.js", "js/api.js", "js/answer.js", "js/camera.js", "js/door.js", "js/i18n.js", "js/store.js", "js/tickets.js",
  "vendor/socket.io.esm.min.js", "vendor/jsQR.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/scan/")) return;
  const key = url.pathname === "/scan/index.html" ? "./" : event.request;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const cached = await cache.match(key, { ignoreSearch: true });
    const fresh = fetch(event.request).then((response) => {
      if (response.ok) cache.put(key, response.clone());
      return response;
    });
    if (cached) {
      event.waitUntil(fresh.catch(() => null));
      return cached;
    }
    return fresh;
  }));
});
