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

// A version-8 QR code (error correction M) like a ticket's, one row of 49 modules per hex string: decoded once when
// the camera starts, so the first ticket does not pay for the decoder's first run over a code of its size (a few
// hundred ms on a slow phone; a smaller code leaves the larger code's paths cold).
const WARM_UP_CODE = [
  "1fc23e1ac117f", "1042724f94f41", "175821e53e35d", "17561cb06b25d", "175beffec185d", "1055154794441",
  "1fd555555557f", "12bf453e500", "17c6877c6b17c", "8d12dac18ce", "95a088f94e9b", "1f1cf5253e7b1",
  "1bfcf0706b1e4", "162a8cdac18cc", "14c1d88f94e9b", "12ac85253e731", "4d0f7706b166", "102b36dac18ca",
  "461bc8f94e93", "183f55253ef11", "13f87b706bb4c", "1e840adac18fe", "ff2bcff94ffb", "1912b9c53e511",
  "b5b27d46b354", "17150646c1b1e", "9f7287f94dfb", "1801094d3e5b1", "e5ef7a46b234", "1204c6b2c0a6c",
  "135e645b94dcb", "ab2294d3e592", "b415fa46b2f7", "161d9eb2c1aa6", "1f52385b94dcf", "5a4114d3e911",
  "15f643a46ba3c", "1b2c86b2c1a6e", "8f7305b94dcb", "e379d4d3e591", "1c7c6ffc6b3f4", "117ac6c191e",
  "1fcd98d794f5b", "105a99c53e711", "175d877c693f4", "175c2a66c191f", "1757fcf395c68", "104ae1993e6f1",
  "1fd0a70c6b3a7",
];

function warmUp(jsQR) {
  const modules = WARM_UP_CODE.length;
  const scale = 8;
  const edge = (modules + 8) * scale;
  const pixels = new Uint8ClampedArray(edge * edge * 4).fill(255);
  WARM_UP_CODE.forEach((hex, y) => {
    const row = BigInt(`0x${hex}`).toString(2).padStart(modules, "0");
    for (let x = 0; x < modules; x++) {
      if (row[x] !== "1") continue;
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
