// What the browser test scripts share: their `--name value` options, and one "ok" or "FAIL" line per check
// with the tally that decides the exit code.
//   const { check, summary } = checks();  ...  process.exit(summary());

export const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};

export function checks() {
  let passed = 0, failed = 0;
  const check = (ok, what, detail = '') => {
    if (ok) passed++; else failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `  (${detail})` : ''}`);
    return ok;
  };
  // Prints the tally (and anything after it) and gives the exit code: 1 if a check failed.
  const summary = (after = '') => {
    console.log(`${passed} passed, ${failed} failed${after}`);
    return failed ? 1 : 0;
  };
  return { check, summary };
}
