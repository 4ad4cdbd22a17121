// gpu-cnn's browser demo: train the seed CNN on bundled MNIST digits or on your own images, watch
// the loss and accuracy, read the confusion matrix, draw a digit to classify, save and load the
// model (TF.js format). Plain DOM; the library does the rest on WebGPU.
//
// Query parameters: ?tiny (300 digits, 1 epoch: a quick run), ?train=N&val=M&epochs=E&batch=B,
// ?seed=S (same weights and batch order every run), ?autostart (train at once).
import { Adam, Conv2D, Dense, describeGpu, Flatten, imagesToTensor, initGpu, loadModel, MaxPooling2D, oneHot, saveModel, Sequential, type Tensor } from "gpu-cnn";
import { Chart } from "./chart.js";
import { loadDigits, mnistLike, modelInput, show, type Digits } from "./images.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const query = new URLSearchParams(location.search);
const tiny = query.has("tiny");
const numberParam = (name: string, fallback: number): number => {
  const v = Number(query.get(name));
  return query.has(name) && Number.isFinite(v) && v > 0 ? v : fallback;
};

const MNIST_TRAIN = numberParam("train", tiny ? 300 : 2500);
const MNIST_VAL = numberParam("val", tiny ? 100 : 500);
const CUSTOM_SIZE = 32;

/** What the current model takes and how its classes are called. */
interface Current {
  model: Sequential;
  classNames: string[];
  /** Per-sample input [size, size, channels]. */
  size: number;
  channels: 1 | 3;
}

interface Sample {
  pixels: Float32Array;
  label: number;
}

interface ImageClass {
  name: string;
  images: Float32Array[];
  box: HTMLElement;
}

const chart = new Chart($<HTMLCanvasElement>("chart"));
const pad = $<HTMLCanvasElement>("pad");
const padCtx = pad.getContext("2d", { willReadFrequently: true })!;
let digits: Digits | null = null;
let current: Current | null = null;
let training = false;
/** The model fit is training, for the Stop button. */
let trainingModel: Sequential | null = null;
let gpuReady = false;
const customClasses: ImageClass[] = [];
/** The file dropped on the pad, while nothing else is drawn there: predicted from the file itself. */
let padFile: File | null = null;

function setStatus(text: string, state: string): void {
  const status = $("status");
  status.textContent = text;
  status.dataset.state = state;
}

function source(): "mnist" | "custom" {
  return (document.querySelector<HTMLInputElement>('input[name="source"]:checked')?.value as "mnist" | "custom") ?? "mnist";
}

function argmax(values: ArrayLike<number>, from: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (values[from + i] > values[from + best]) best = i;
  return best;
}

// ---- WebGPU ---------------------------------------------------------------------------------

function noWebGpu(reason: string): void {
  const banner = $("no-webgpu");
  banner.hidden = false;
  banner.innerHTML =
    `<strong>This browser cannot run WebGPU</strong> — ${reason}. gpu-cnn trains on the GPU through WebGPU: open this page in ` +
    "Chrome or Edge 113 or newer (on Linux you may need <code>chrome://flags/#enable-unsafe-webgpu</code>), Safari 26, or Firefox 141+ on Windows, " +
    "served from <code>localhost</code> or over https.";
  $("adapter").textContent = "No WebGPU.";
  setStatus("WebGPU is not available, so training is off.", "no-webgpu");
  for (const id of ["train", "stop", "save"]) $<HTMLButtonElement>(id).disabled = true;
  $<HTMLInputElement>("load").disabled = true;
}

async function startGpu(): Promise<boolean> {
  if (!navigator.gpu) {
    noWebGpu("<code>navigator.gpu</code> is missing");
    return false;
  }
  try {
    const info = await initGpu();
    $("adapter").textContent = `WebGPU adapter: ${describeGpu(info)}`;
    return true;
  } catch (e) {
    noWebGpu(`no WebGPU adapter could be opened (${(e as Error).message.replace(/^gpu-cnn: /, "")})`);
    return false;
  }
}

// ---- data -----------------------------------------------------------------------------------

function mnistSplit(d: Digits): { train: Sample[]; val: Sample[] } {
  // the digits are interleaved by class, so the last ones make a balanced validation set
  const val = Math.min(MNIST_VAL, Math.floor(d.count / 5));
  const train = Math.min(MNIST_TRAIN, d.count - val);
  const sample = (i: number): Sample => ({ pixels: d.pixels.subarray(i * 784, (i + 1) * 784), label: d.labels[i] });
  return {
    train: Array.from({ length: train }, (_, i) => sample(i)),
    val: Array.from({ length: val }, (_, i) => sample(d.count - val + i)),
  };
}

function customSplit(): { train: Sample[]; val: Sample[]; names: string[] } | string {
  const used = customClasses.filter((c) => c.images.length > 0);
  if (used.length < 2) return "Drop images on at least two classes first.";
  const train: Sample[] = [];
  const val: Sample[] = [];
  used.forEach((c, label) => {
    // every 5th image of a class with 5 or more is held out for validation
    c.images.forEach((pixels, i) => (c.images.length >= 5 && i % 5 === 4 ? val : train).push({ pixels, label }));
  });
  return { train, val, names: used.map((c, i) => c.name.trim() || `class ${i + 1}`) };
}

function tensors(samples: Sample[], size: number, channels: number, classes: number): [Tensor, Tensor] {
  const x = imagesToTensor(samples.map((s) => ({ width: size, height: size, channels, data: s.pixels })));
  return [x, oneHot(samples.map((s) => s.label), classes)];
}

// ---- training -------------------------------------------------------------------------------

function seedModel(size: number, channels: number, classes: number, seed: number | undefined): Sequential {
  const model = new Sequential({ seed, name: "demo" });
  model.add(new Conv2D(32, [3, 3], { inputShape: [size, size, channels], activation: "relu" }));
  model.add(new MaxPooling2D({ poolSize: [2, 2] }));
  model.add(new Flatten());
  model.add(new Dense(128, { activation: "relu" }));
  model.add(new Dense(classes, { activation: "softmax" }));
  return model;
}

async function train(): Promise<void> {
  if (training || !gpuReady) return;
  const mode = source();
  let split: { train: Sample[]; val: Sample[] };
  let names: string[];
  let size: number;
  let channels: 1 | 3;
  if (mode === "mnist") {
    if (!digits) return;
    split = mnistSplit(digits);
    names = [..."0123456789"];
    [size, channels] = [28, 1];
  } else {
    const custom = customSplit();
    if (typeof custom === "string") {
      setStatus(custom, "error");
      return;
    }
    ({ names } = custom);
    split = custom;
    [size, channels] = [CUSTOM_SIZE, 3];
  }
  const epochs = Math.max(1, Math.round(Number($<HTMLInputElement>("epochs").value) || 1));
  const batchSize = Math.max(1, Math.round(Number($<HTMLInputElement>("batch").value) || 32));
  const learningRate = Number($<HTMLInputElement>("lr").value) || 0.001;
  const seed = query.has("seed") ? Number(query.get("seed")) : undefined;

  training = true;
  $<HTMLButtonElement>("train").disabled = true;
  $<HTMLButtonElement>("stop").disabled = false;
  $<HTMLButtonElement>("save").disabled = true;
  current?.model.dispose();
  current = null;
  const model = seedModel(size, channels, names.length, seed);
  trainingModel = model;
  model.compile({ optimizer: new Adam({ learningRate }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  $("arch-classes").textContent = String(names.length);
  const [x, y] = tensors(split.train, size, channels, names.length);
  const [vx, vy] = split.val.length ? tensors(split.val, size, channels, names.length) : [null, null];
  const steps = Math.ceil(split.train.length / batchSize);
  const evalEvery = Math.max(1, Math.round(steps / 4)); // validation points four times an epoch
  const progress = $<HTMLProgressElement>("progress");
  chart.reset(epochs);
  let epoch = 0;
  let smoothLoss = 0;
  let smoothAcc = 0;
  let seen = 0;
  let lastVal = "";
  const started = performance.now();
  setStatus(`Training on ${split.train.length} images (${model.countParams().toLocaleString("en-US")} weights)…`, "training");
  try {
    await model.fit(x, y, {
      epochs,
      batchSize,
      verbose: 0,
      callbacks: {
        onEpochBegin: (e) => void (epoch = e),
        onBatchEnd: async (batch, logs) => {
          // training curves: a moving average of the batch values, corrected for its start
          seen++;
          const k = 0.15;
          smoothLoss = smoothLoss * (1 - k) + logs.loss * k;
          smoothAcc = smoothAcc * (1 - k) + logs.accuracy * k;
          const fix = 1 - (1 - k) ** seen;
          const at = epoch + (batch + 1) / steps;
          chart.add("loss", at, smoothLoss / fix);
          chart.add("accuracy", at, smoothAcc / fix);
          if (vx && vy && ((batch + 1) % evalEvery === 0 || batch + 1 === steps)) {
            const v = await model.evaluate(vx, vy, { batchSize: 128 });
            chart.add("val_loss", at, v.loss);
            chart.add("val_accuracy", at, v.accuracy);
            lastVal = `, validation accuracy ${(v.accuracy * 100).toFixed(1)}%`;
          }
          progress.value = (epoch + (batch + 1) / steps) / epochs;
          const rate = (seen * batchSize) / ((performance.now() - started) / 1000);
          setStatus(`Epoch ${epoch + 1}/${epochs}, batch ${batch + 1}/${steps}: loss ${(smoothLoss / fix).toFixed(3)}${lastVal} · ${Math.round(rate)} images/s`, "training");
        },
      },
    });
    current = { model, classNames: names, size, channels };
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (vx && vy) await confusion(vx, split.val.map((s) => s.label));
    setStatus(`${model.stopTraining ? "Stopped" : "Done"} in ${seconds} s${lastVal}. Draw something, or try a validation sample.`, "done");
    if (split.val.length) showSample(split.val[Math.floor(Math.random() * split.val.length)]);
    await predictPad();
  } catch (e) {
    model.dispose();
    setStatus(`Training failed: ${(e as Error).message}`, "error");
    console.error(e);
  } finally {
    for (const t of [x, y, vx, vy]) t?.dispose();
    training = false;
    trainingModel = null;
    $<HTMLButtonElement>("train").disabled = false;
    $<HTMLButtonElement>("stop").disabled = true;
    $<HTMLButtonElement>("save").disabled = current === null;
  }
}

/** The confusion matrix of the current model on labelled images: rows true, columns predicted. */
async function confusion(x: Tensor, labels: number[]): Promise<void> {
  if (!current) return;
  const n = current.classNames.length;
  const probs = await current.model.predict(x, { batchSize: 128 });
  const p = await probs.data();
  probs.dispose();
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  labels.forEach((label, i) => counts[label][argmax(p, i * n, n)]++);
  const rowMax = counts.map((r) => Math.max(1, r.reduce((a, b) => a + b, 0)));
  const head = current.classNames.map((c) => `<th>${escape(c.slice(0, 3))}</th>`).join("");
  const rows = counts
    .map((r, i) => {
      const cells = r
        .map((v, j) => {
          const share = v / rowMax[i];
          const color = i === j ? `rgba(47,111,237,${share})` : `rgba(232,89,12,${Math.min(1, share * 2)})`;
          return `<td style="background:${v ? color : "transparent"};color:${share > 0.5 ? "#fff" : "inherit"}" title="${v} × true ${escape(current!.classNames[i])} predicted ${escape(current!.classNames[j])}">${v || ""}</td>`;
        })
        .join("");
      return `<tr><th>${escape(current!.classNames[i].slice(0, 3))}</th>${cells}</tr>`;
    })
    .join("");
  const right = counts.reduce((n, r, i) => n + r[i], 0);
  $("confusion").innerHTML =
    `<table><tr><th></th>${head}</tr>${rows}</table>` +
    `<p class="muted small">Rows: true class, columns: predicted. ${right} of ${labels.length} right (${((100 * right) / labels.length).toFixed(1)}%).</p>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---- prediction -----------------------------------------------------------------------------

function clearPad(): void {
  padFile = null;
  padCtx.fillStyle = "#000";
  padCtx.fillRect(0, 0, pad.width, pad.height);
}

/** A sample (an MNIST digit, or one of your images) drawn onto the pad. */
function showSample(s: Sample): void {
  clearPad();
  const [size, channels] = s.pixels.length === 28 * 28 ? [28, 1] : [CUSTOM_SIZE, 3];
  show(pad, s.pixels, size, channels);
}

async function predictPad(): Promise<void> {
  const list = $("predictions");
  if (!current) {
    list.innerHTML = `<li class="muted">Train or load a model first.</li>`;
    return;
  }
  const { model, classNames, size, channels } = current;
  // MNIST models get the digit cut out and centred as MNIST's were; others the image as trained
  const input = size === 28 && channels === 1 ? await mnistLike(pad) : await modelInput(padFile ?? pad, size, channels);
  if (!input) {
    list.innerHTML = `<li class="muted">Draw something.</li>`;
    return;
  }
  show($<HTMLCanvasElement>("input-view"), input, size, channels);
  const x = imagesToTensor([{ width: size, height: size, channels, data: input }]);
  const probs = await model.predict(x);
  const p = Array.from(await probs.data());
  x.dispose();
  probs.dispose();
  const top = p
    .map((prob, i) => ({ prob, i }))
    .sort((a, b) => b.prob - a.prob)
    .slice(0, 3);
  list.innerHTML = top
    .map(
      ({ prob, i }) =>
        `<li data-class="${escape(classNames[i])}" data-prob="${prob}"><div class="label"><span>${escape(classNames[i])}</span><span>${(prob * 100).toFixed(1)}%</span></div>` +
        `<div class="bar" style="width:${Math.max(1, prob * 100)}%"></div></li>`,
    )
    .join("");
}

function setupPad(): void {
  clearPad();
  let drawing = false;
  let last: [number, number] = [0, 0];
  const point = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * pad.width, ((e.clientY - r.top) / r.height) * pad.height];
  };
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    padFile = null; // drawn over: the pad is the input now
    pad.setPointerCapture(e.pointerId);
    last = point(e);
    padCtx.fillStyle = "#fff";
    padCtx.beginPath();
    padCtx.arc(last[0], last[1], 10, 0, 2 * Math.PI);
    padCtx.fill();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const p = point(e);
    padCtx.strokeStyle = "#fff";
    padCtx.lineWidth = 20;
    padCtx.lineCap = "round";
    padCtx.beginPath();
    padCtx.moveTo(...last);
    padCtx.lineTo(...p);
    padCtx.stroke();
    last = p;
  });
  const end = (): void => {
    if (!drawing) return;
    drawing = false;
    void predictPad();
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  dropTarget(pad, async (files) => {
    const shown = await modelInput(files[0], pad.width, 3);
    clearPad();
    show(pad, shown, pad.width, 3);
    padFile = files[0];
    await predictPad();
  });
  $("clear").addEventListener("click", () => {
    clearPad();
    void predictPad();
  });
  $("sample").addEventListener("click", () => {
    if (source() === "mnist" && digits) {
      const i = digits.count - 1 - Math.floor(Math.random() * Math.min(MNIST_VAL, digits.count));
      showSample({ pixels: digits.pixels.subarray(i * 784, (i + 1) * 784), label: digits.labels[i] });
    } else {
      const all = customClasses.flatMap((c) => c.images);
      if (all.length) showSample({ pixels: all[Math.floor(Math.random() * all.length)], label: 0 });
    }
    void predictPad();
  });
}

// ---- dropped images -------------------------------------------------------------------------

function dropTarget(element: HTMLElement, onFiles: (files: File[]) => Promise<void>): void {
  element.addEventListener("dragover", (e) => {
    e.preventDefault();
    element.classList.add("over");
  });
  element.addEventListener("dragleave", () => element.classList.remove("over"));
  element.addEventListener("drop", (e) => {
    e.preventDefault();
    element.classList.remove("over");
    const files = Array.from(e.dataTransfer?.files ?? []).filter((f) => f.type.startsWith("image/"));
    if (files.length) onFiles(files).catch((err) => setStatus(`Could not read that image: ${(err as Error).message}`, "error"));
  });
}

function addClass(name: string): void {
  const box = document.createElement("div");
  box.className = "class-box";
  box.innerHTML = `<input type="text" aria-label="class name" /> <span class="count muted small">0 images</span><input type="file" accept="image/*" multiple hidden /><div class="thumbs"></div>`;
  const entry: ImageClass = { name, images: [], box };
  const [nameInput, fileInput] = Array.from(box.querySelectorAll("input"));
  nameInput.value = name;
  nameInput.addEventListener("input", () => (entry.name = nameInput.value));
  nameInput.addEventListener("click", (e) => e.stopPropagation());
  const addFiles = async (files: File[]): Promise<void> => {
    for (const file of files) {
      const pixels = await modelInput(file, CUSTOM_SIZE, 3);
      entry.images.push(pixels);
      if (entry.images.length <= 40) {
        const thumb = document.createElement("canvas");
        thumb.width = thumb.height = CUSTOM_SIZE;
        show(thumb, pixels, CUSTOM_SIZE, 3);
        box.querySelector(".thumbs")!.append(thumb);
      }
    }
    box.querySelector(".count")!.textContent = `${entry.images.length} image${entry.images.length === 1 ? "" : "s"}`;
  };
  box.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    addFiles(Array.from(fileInput.files ?? [])).catch((err) => setStatus(`Could not read that image: ${(err as Error).message}`, "error"));
    fileInput.value = "";
  });
  dropTarget(box, addFiles);
  customClasses.push(entry);
  $("classes").append(box);
}

// ---- save and load --------------------------------------------------------------------------

async function save(): Promise<void> {
  if (!current) return;
  // TF.js' "downloads://" layout: model.json and model.weights.bin. The page never resumes
  // training a loaded model, so Adam's state (twice the weights' size) stays out.
  await saveModel(current.model, "downloads://model", { classNames: current.classNames, includeOptimizer: false });
  setStatus("Saved model.json and model.weights.bin to your downloads.", "done");
}

async function load(files: File[]): Promise<void> {
  const jsonFile = files.find((f) => f.name.endsWith(".json"));
  if (!jsonFile) throw new Error("choose model.json and its weights file together");
  const json = JSON.parse(await jsonFile.text()) as { weightsManifest?: { paths: string[] }[] };
  const bins = files.filter((f) => f !== jsonFile);
  const paths = (json.weightsManifest ?? []).flatMap((g) => g.paths);
  const parts = await Promise.all(
    paths.map((p) => {
      const base = p.split("/").pop();
      const file = bins.find((f) => f.name === base) ?? (paths.length === 1 && bins.length === 1 ? bins[0] : undefined);
      if (!file) throw new Error(`model.json lists ${p}; choose it too`);
      return file.arrayBuffer();
    }),
  );
  const model = await loadModel({ ...json, weightData: parts });
  const shape = model.inputShape ?? [];
  if (shape.length !== 3 || shape[0] !== shape[1] || (shape[2] !== 1 && shape[2] !== 3)) {
    model.dispose();
    throw new Error(`this page classifies square images with 1 or 3 channels; the model takes ${JSON.stringify(shape)}`);
  }
  const classes = model.outputShape?.[0] ?? 0;
  const saved = (model as Sequential & { classNames?: string[] | null }).classNames;
  current?.model.dispose();
  current = { model, classNames: saved ?? Array.from({ length: classes }, (_, i) => String(i)), size: shape[0], channels: shape[2] as 1 | 3 };
  $("arch-classes").textContent = String(classes);
  $<HTMLButtonElement>("save").disabled = false;
  setStatus(`Loaded ${jsonFile.name} (${model.countParams().toLocaleString("en-US")} weights).`, "done");
  if (digits && current.size === 28 && current.channels === 1 && classes === 10) {
    const { val } = mnistSplit(digits);
    const [vx, vy] = tensors(val, 28, 1, 10);
    await confusion(vx, val.map((s) => s.label));
    vx.dispose();
    vy.dispose();
  }
  await predictPad();
}

// ---- start ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (tiny) $<HTMLInputElement>("epochs").value = "1";
  if (query.has("epochs")) $<HTMLInputElement>("epochs").value = String(numberParam("epochs", 1));
  if (query.has("batch")) $<HTMLInputElement>("batch").value = String(numberParam("batch", 32));
  for (const name of ["cats", "dogs"]) addClass(name);
  $("add-class").addEventListener("click", () => addClass(`class ${customClasses.length + 1}`));
  for (const radio of Array.from(document.querySelectorAll<HTMLInputElement>('input[name="source"]'))) {
    radio.addEventListener("change", () => {
      $("mnist-panel").hidden = source() !== "mnist";
      $("custom-panel").hidden = source() !== "custom";
    });
  }
  setupPad();
  $("train").addEventListener("click", () => void train());
  $("stop").addEventListener("click", () => {
    // fit checks stopTraining after every batch
    if (trainingModel) trainingModel.stopTraining = true;
    $<HTMLButtonElement>("stop").disabled = true;
  });
  $("save").addEventListener("click", () => void save().catch((e) => setStatus(`Save failed: ${(e as Error).message}`, "error")));
  const loadInput = $<HTMLInputElement>("load");
  loadInput.addEventListener("change", () => {
    load(Array.from(loadInput.files ?? [])).catch((e) => setStatus(`Could not load that model: ${(e as Error).message.replace(/^gpu-cnn: /, "")}`, "error"));
    loadInput.value = "";
  });

  if (!navigator.gpu) noWebGpu("<code>navigator.gpu</code> is missing");
  else setStatus("Unpacking the digits…", "loading");
  digits = await loadDigits();
  const preview = $<HTMLCanvasElement>("mnist-preview");
  for (let i = 0; i < 20; i++) show(preview, digits.pixels.subarray(i * 784, (i + 1) * 784), 28, 1, [(i % 10) * 28, Math.floor(i / 10) * 28], 1);
  $("mnist-info").textContent = `${digits.count.toLocaleString("en-US")} handwritten digits from the mnist package, bundled with the page: ${MNIST_TRAIN.toLocaleString("en-US")} to train, ${MNIST_VAL} to validate.`;
  if (!navigator.gpu) return;
  gpuReady = await startGpu();
  if (!gpuReady) return;
  setStatus("Ready. Press Train.", "idle");
  if (query.has("autostart")) await train();
}

void main();
