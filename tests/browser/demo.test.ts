// The demo page (examples/browser) in headless Chromium: a short training run on the bundled
// MNIST digits draws the loss and accuracy curves (checked in a screenshot of the chart against
// the blank chart before training), fills the confusion matrix, and classifies a digit drawn
// with the mouse; the model downloads as TF.js files (model.json + weights) that load back and
// predict the same. Without WebGPU the page says so. Screenshots are kept in a temporary folder (printed).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { PNG } from "pngjs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDemo } from "../../examples/browser/build.js";
import { launch, open, serve } from "./harness.js";

let browser: Browser;
let server: Server;
let url: string;
const shots = mkdtempSync(join(tmpdir(), "gpu-cnn-demo-"));

beforeAll(async () => {
  ({ url, server } = await serve(await buildDemo()));
  browser = await launch();
  console.log(`demo screenshots: ${shots}`);
});
afterAll(async () => {
  await browser?.close();
  server?.close();
});

/** The chart's plot areas in canvas units (see examples/browser/chart.ts): loss, then accuracy. */
const PLOTS = [
  { left: 44, top: 22, width: 300, height: 200 },
  { left: 404, top: 22, width: 300, height: 200 },
];

/**
 * Pixels of the curves' colors inside each plot: strongly saturated ones (the grid, axes and
 * labels are grays), split into the training blue and the validation orange.
 */
function curvePixels(shot: Buffer): { blue: number; orange: number }[] {
  const png = PNG.sync.read(shot);
  const scale = png.width / 720; // the canvas is drawn in 720 × 260 units
  return PLOTS.map((p) => {
    let [blue, orange] = [0, 0];
    for (let y = Math.ceil((p.top + 1) * scale); y < Math.floor((p.top + p.height) * scale); y++) {
      for (let x = Math.ceil((p.left + 1) * scale); x < Math.floor((p.left + p.width) * scale); x++) {
        const i = 4 * (y * png.width + x);
        const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
        if (Math.max(r, g, b) - Math.min(r, g, b) < 100) continue;
        if (b > r) blue++;
        else orange++;
      }
    }
    return { blue, orange };
  });
}

async function shoot(page: Page, selector: string, name: string): Promise<Buffer> {
  const shot = await page.locator(selector).screenshot();
  writeFileSync(join(shots, name), shot);
  return shot;
}

describe("the demo page", () => {
  it("trains briefly on MNIST: curves drawn, confusion matrix, a prediction; saves, and loads back", async () => {
    const page = await open(browser, `${url}/?tiny&seed=7`);
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.waitForSelector('#status[data-state="idle"]', { timeout: 30_000 });
    expect(await page.textContent("#adapter")).toMatch(/WebGPU adapter: .*swiftshader/i);
    const blank = curvePixels(await shoot(page, "#chart", "chart-before.png"));
    expect(blank).toEqual([
      { blue: 0, orange: 0 },
      { blue: 0, orange: 0 },
    ]);

    await page.click("#train");
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 60_000 });
    const status = await page.textContent("#status");
    console.log(`demo: ${status}`);
    expect(await page.getAttribute("#status", "data-state"), String(status)).toBe("done");
    await page.waitForTimeout(100); // the chart redraws on the next animation frame
    await page.screenshot({ path: join(shots, "page.png"), fullPage: true });

    // the chart: training points per batch and validation points, drawn as curves in both plots
    expect(Number(await page.getAttribute("#chart", "data-points"))).toBeGreaterThanOrEqual(20);
    const drawn = curvePixels(await shoot(page, "#chart", "chart-after.png"));
    console.log("demo chart, curve pixels (loss, accuracy):", JSON.stringify(drawn));
    for (const plot of drawn) {
      expect(plot.blue).toBeGreaterThan(150);
      expect(plot.orange).toBeGreaterThan(50);
    }

    // the confusion matrix covers the 100 validation digits
    const cells = await page.$$eval("#confusion td", (tds) => tds.map((td) => Number(td.textContent) || 0));
    expect(cells.length).toBe(100);
    expect(cells.reduce((a, b) => a + b, 0)).toBe(100);

    // a validation digit is on the pad and classified: top 3, probabilities in order
    const top = async (): Promise<{ label: string; prob: number }[]> =>
      page.$$eval("#predictions li[data-prob]", (lis) => lis.map((li) => ({ label: li.getAttribute("data-class")!, prob: Number(li.getAttribute("data-prob")) })));
    const predicted = await top();
    expect(predicted.length).toBe(3);
    expect(predicted[0].prob).toBeGreaterThanOrEqual(predicted[1].prob);
    expect(predicted.reduce((s, p) => s + p.prob, 0)).toBeLessThanOrEqual(1 + 1e-5);
    expect(await page.textContent("#predictions")).toMatch(/\d+\.\d%/);

    // draw a stroke with the mouse: a new prediction
    await page.click("#clear");
    await page.waitForSelector("#predictions li.muted");
    const box = (await page.locator("#pad").boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
    await page.mouse.down();
    for (let t = 0.2; t <= 0.8; t += 0.05) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * t);
    await page.mouse.up();
    await page.waitForSelector("#predictions li[data-prob]");
    expect((await top()).length).toBe(3);
    await shoot(page, "#try-card", "drawn.png");

    // save: model.json + model.weights.bin download in TF.js' layout; loaded back, the model predicts the same
    const drawnPrediction = await top();
    const downloaded = mkdtempSync(join(tmpdir(), "gpu-cnn-demo-model-"));
    const downloads: Record<string, string> = {};
    const both = new Promise<void>((done) => {
      page.on("download", async (d) => {
        const path = join(downloaded, d.suggestedFilename());
        await d.saveAs(path);
        downloads[d.suggestedFilename()] = path;
        if (Object.keys(downloads).length === 2) done();
      });
    });
    await page.click("#save");
    await both;
    expect(Object.keys(downloads).sort()).toEqual(["model.json", "model.weights.bin"]);
    const json = JSON.parse(readFileSync(downloads["model.json"], "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)).toEqual(["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]);
    expect(json.userDefinedMetadata.classNames).toEqual([..."0123456789"]);
    expect(json.weightsManifest[0].paths).toEqual(["./model.weights.bin"]);
    const weights = (json.weightsManifest[0].weights as { shape: number[] }[]).reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
    expect(statSync(downloads["model.weights.bin"]).size).toBe(weights);

    await page.$eval("#predictions", (list) => (list.innerHTML = "")); // loading predicts the pad again
    await page.setInputFiles("#load", [downloads["model.json"], downloads["model.weights.bin"]]);
    await page.waitForFunction(() => /^Loaded model\.json/.test(document.getElementById("status")!.textContent ?? ""), undefined, { timeout: 20_000 });
    await page.waitForSelector("#predictions li[data-prob]");
    const reloaded = await top();
    expect(reloaded.map((p) => p.label)).toEqual(drawnPrediction.map((p) => p.label));
    reloaded.forEach((p, i) => expect(Math.abs(p.prob - drawnPrediction[i].prob)).toBeLessThan(1e-5));
    rmSync(downloaded, { recursive: true, force: true });
    await page.close();
  });

  it("says clearly when the browser has no WebGPU", async () => {
    const page = await browser.newPage();
    await page.addInitScript(() => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
    await page.goto(`${url}/`);
    await page.waitForSelector('#status[data-state="no-webgpu"]', { timeout: 20_000 });
    expect(await page.isVisible("#no-webgpu")).toBe(true);
    expect(await page.textContent("#no-webgpu")).toMatch(/cannot run WebGPU.*navigator\.gpu is missing/);
    expect(await page.isDisabled("#train")).toBe(true);
    await shoot(page, "#no-webgpu", "no-webgpu.png");
    await page.close();
  });
});
