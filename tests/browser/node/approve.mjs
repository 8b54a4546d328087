// Approves a hub on the cloud's /link page (RFC 8628's verification URI) in Debian's Chromium,
// as a user does: a wrong password first, then the right one. Prints one JSON line.
//   node approve.mjs '{"url": "http://.../link?code=ABCD-EFGH", "email": "...", "password": "...", "shot": "/x.png"}'
import { chromium } from "playwright-core";

const args = JSON.parse(process.argv[2]);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"], headless: true });
const out = { console: [] };
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on("console", (message) => out.console.push(`${message.type()}: ${message.text()}`));
  await page.goto(args.url);
  out.prefilled = await page.inputValue("#user_code");
  await page.fill("#email", args.email);
  await page.fill("#password", "not the password");
  await page.click("#approve");
  await page.waitForSelector("#error", { timeout: 10000 });
  out.wrong = await page.textContent("#error");
  out.kept = await page.inputValue("#user_code");
  await page.fill("#password", args.password);
  await page.click("#approve");
  await page.waitForSelector("#result", { timeout: 10000 });
  out.result = await page.textContent("#result");
  out.csp = (await page.evaluate(() => document.readyState)) && true;
  if (args.shot) await page.screenshot({ path: args.shot, fullPage: true });
} catch (err) {
  out.error = String(err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
