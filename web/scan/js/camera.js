// The phone's camera as a QR reader: the browser's BarcodeDetector where it has one, else the bundled jsQR.
// A code is read once when it comes into view; it must leave the view before it is read again.
const LEAVE_VIEW_MS = 600;
const MAX_EDGE = 640;

function loadJsQr() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "vendor/jsQR.js";
    script.onload = () => resolve(window.jsQR);
    script.onerror = () => reject(new Error("jsQR did not load"));
    document.head.append(script);
  });
}

// A version-1 QR code of "lango", one row of 21 modules per number: decoded once when the camera starts, so the
// first ticket does not pay for the decoder's first run (a few hundred ms on a slow phone).
const WARM_UP_CODE = [
  0x1fcc7f, 0x104741, 0x17565d, 0x175e5d, 0x175d5d, 0x105641, 0x1fd57f, 0x1000, 0x17c27c, 0x149fc5, 0xfe16e,
  0x6a7cc, 0x11e923, 0x1d29, 0x1fce92, 0x10583e, 0x175692, 0x1757ec, 0x175968, 0x1043dc, 0x1fdd12,
];

function warmUp(jsQR) {
  const modules = WARM_UP_CODE.length;
  const scale = 16;
  const edge = (modules + 8) * scale;
  const pixels = new Uint8ClampedArray(edge * edge * 4).fill(255);
  WARM_UP_CODE.forEach((row, y) => {
    for (let x = 0; x < modules; x++) {
      if (!((row >> (modules - 1 - x)) & 1)) continue;
      for (let dy = 0; dy < scale; dy++) {
        const start = (((y + 4) * scale + dy) * edge + (x + 4) * scale) * 4;
        pixels.fill(0, start, start + scale * 4);
        for (let dx = 0; dx < scale; dx++) pixels[start + dx * 4 + 3] = 255;
      }
    }
  });
  return jsQR(pixels, edge, edge, { inversionAttempts: "dontInvert" })?.data;
}

async function makeDecoder(canvas) {
  if ("BarcodeDetector" in window) {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (formats.includes("qr_code")) {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return { name: "BarcodeDetector", decode: async (video) => (await detector.detect(video))[0]?.rawValue ?? null };
    }
  }
  const jsQR = await loadJsQr();
  warmUp(jsQR);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return {
    name: "jsQR",
    decode: async (video) => {
      const scale = Math.min(1, MAX_EDGE / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      return jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" })?.data ?? null;
    },
  };
}

// Starts the camera in `video`; calls onCode(text, frameAt) for each code that comes into view, where frameAt
// is when the frame that showed it reached the page (performance.now()).
export async function startCamera(video, onCode) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
  });
  video.srcObject = stream;
  await video.play();
  const decoder = await makeDecoder(document.createElement("canvas"));
  let current = null;
  let lastSeenAt = 0;
  let stopped = false;

  const nextFrame = (callback) =>
    video.requestVideoFrameCallback ? video.requestVideoFrameCallback((now) => callback(now)) : requestAnimationFrame(callback);

  async function onFrame(frameAt) {
    if (stopped) return;
    try {
      const text = await decoder.decode(video);
      if (text && !(text === current && frameAt - lastSeenAt < LEAVE_VIEW_MS)) onCode(text, frameAt);
      if (text) {
        current = text;
        lastSeenAt = frameAt;
      }
    } finally {
      nextFrame(onFrame);
    }
  }
  nextFrame(onFrame);
  return {
    decoder: decoder.name,
    stop() {
      stopped = true;
      for (const track of stream.getTracks()) track.stop();
    },
  };
}
