'use strict';
/** What the benchmarks share to read their options and report their figures. */
const { rssMiBOfPid } = require('./scratch');

/** `--name value` or `--name=value` options over `defaults`; numbers stay numbers. */
function cliArgs(defaults) {
  const a = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (m) a[m[1]] = Number(m[2] ?? argv[++i]);
  }
  return a;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs, digits = 0) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

/** The RSS (MiB) of the gateway and data-query processes now, and at their peak from now on (sampled every 100 ms) until stop(). */
function rssPeaks(children) {
  const rss = () => ({ gateway: rssMiBOfPid(children.gateway.pid), dataQuery: rssMiBOfPid(children['data-query'].pid) });
  const idle = rss();
  const peak = { ...idle };
  const sampler = setInterval(() => {
    const now = rss();
    peak.gateway = Math.max(peak.gateway, now.gateway);
    peak.dataQuery = Math.max(peak.dataQuery, now.dataQuery);
  }, 100);
  return { idle, peak, stop: () => clearInterval(sampler) };
}

module.exports = { cliArgs, median, spread, rssPeaks };
