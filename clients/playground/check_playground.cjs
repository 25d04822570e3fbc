// The gateway's playground in a real browser: Debian's chromium, headless,
// driven by puppeteer-core (scripts/setup-browser.sh installs both).
//
//   NODE_PATH=~/.cache/cinder/browser/node_modules \
//     node check_playground.cjs http://127.0.0.1:8080 sk-key SCREENSHOT_DIR
//
// Types an API key, compares three sentences with the embedding model and
// asks the chat model a question, as a user would, and asserts what the
// page shows: the similarity matrix, the streamed reply, each request's
// life on chain up to settlement, and the chain tab's tables. Saves a
// screenshot at each stage; prints a JSON summary last; exits non-zero on
// the first failed check.
"use strict";
const puppeteer = require("puppeteer-core");
const path = require("path");

const [base, key, shots] = process.argv.slice(2);
const CHAT = "SmolLM2-135M-Instruct";
const EMBEDDER = "all-MiniLM-L6-v2";

function check(ok, what) {
  if (!ok) throw new Error("check failed: " + what);
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const summary = {};
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base + "/", { waitUntil: "load" });
    check((await page.title()) === "Cinder playground", "the page's title");

    // Without the key the models cannot be listed; with it they can.
    await page.waitForFunction(() => document.getElementById("model-facts").textContent.includes("cannot list"), { timeout: 20000 });
    await page.type("#key", key);
    await page.$eval("#key", (e) => e.dispatchEvent(new Event("change")));
    await page.waitForFunction((n) => document.querySelectorAll("#model option").length === n, { timeout: 20000 }, 2);
    const options = await page.$$eval("#model option", (os) => os.map((o) => o.value));
    check(options.join() === [EMBEDDER, CHAT].join(), "the model list: " + options);

    // Embeddings: three sentences, a 3×3 similarity matrix.
    await page.select("#model", EMBEDDER);
    check(!(await page.$eval("#embed-panel", (e) => e.hidden)), "the embedding panel shows");
    await page.click("#embed");
    await page.waitForSelector("#matrix td[data-i='2'][data-j='2']", { timeout: 120000 });
    const cell = (i, j) => page.$eval(`#matrix td[data-i='${i}'][data-j='${j}']`, (e) => Number(e.textContent));
    check((await cell(0, 0)) === 1 && (await cell(2, 2)) === 1, "each sentence is itself");
    const bread = await cell(0, 1), stocks = await cell(0, 2);
    check(bread > 0.5 && stocks < 0.2 && bread === (await cell(1, 0)), `similarities ${bread} ${stocks}`);
    summary.similarity = { bread, stocks };
    const cards = await page.$$eval("#embed-life .life", (cs) => cs.map((c) => c.dataset.request));
    check(cards.length === 3, "a life card per request: " + cards);
    await page.screenshot({ path: path.join(shots, "playground-embeddings.png"), fullPage: true });

    // Chat: the reply streams into the conversation.
    await page.select("#model", CHAT);
    check(!(await page.$eval("#chat-panel", (e) => e.hidden)), "the chat panel shows");
    await page.type("#chat-input", "What is the capital of France?");
    await page.click("#send");
    await page.waitForFunction(() => {
      const m = document.querySelector("#messages .msg.assistant");
      return m && !m.classList.contains("pending") && m.textContent.length > 0;
    }, { timeout: 180000 });
    const reply = await page.$eval("#messages .msg.assistant", (e) => e.textContent);
    check(reply === "The capital of France is Paris.", "the reply: " + reply);
    summary.reply = reply;
    const user = await page.$eval("#messages .msg.user", (e) => e.textContent);
    check(user === "What is the capital of France?", "the user's turn");
    // Its life: submitted and answered in blocks, a worker, a trace root,
    // then settled with the fee paid once the challenge window closes.
    await page.waitForSelector("#chat-life .life[data-state='answered'], #chat-life .life[data-state='settled']", { timeout: 60000 });
    await page.screenshot({ path: path.join(shots, "playground-chat.png"), fullPage: true });
    await page.waitForSelector("#chat-life .life[data-state='settled']", { timeout: 180000 });
    const life = await page.$eval("#chat-life .life", (c) => ({
      request: Number(c.dataset.request),
      steps: [...c.querySelectorAll("li")].map((l) => [l.dataset.step, l.className, l.textContent]),
      facts: c.querySelector(".facts").textContent,
    }));
    for (const step of ["submitted", "assigned", "answered", "settled"]) {
      const s = life.steps.find((x) => x[0] === step);
      check(s && s[1] === "done", "step " + step + " done: " + JSON.stringify(life.steps));
    }
    check(/in block \d+/.test(life.steps[0][2]) && /in block \d+/.test(life.steps[3][2]), "blocks shown");
    check(/paid \d/.test(life.facts) && /trace root 0x[0-9a-f]{64}/.test(life.facts), "fee and trace root: " + life.facts);
    summary.chat = life;
    await page.screenshot({ path: path.join(shots, "playground-settled.png"), fullPage: true });

    // The chain tab: recent requests (ours among them), validators.
    await page.click("#tab-chain");
    await page.waitForSelector(`#requests tr[data-request='${life.request}']`, { timeout: 30000 });
    const rows = await page.$$eval("#requests tr[data-request]", (rs) => rs.length);
    check(rows >= 4, "recent requests listed: " + rows);
    const validators = await page.$$eval("#validators tr", (rs) => rs.length - 1);
    check(validators >= 1, "validators listed");
    summary.chain = { requests: rows, validators };
    await page.screenshot({ path: path.join(shots, "playground-chain.png"), fullPage: true });
    check(errors.length === 0, "no script errors: " + errors.join("; "));
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(summary));
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
