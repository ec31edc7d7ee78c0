'use strict';
// Command-line options of the bench scripts: `--name` flags and `--name=value` options.

const argv = process.argv.slice(2);

/** Whether `--name` was given. */
const flag = (name) => argv.includes(`--${name}`);

/** The value of `--name=value`, or undefined. */
const opt = (name) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : undefined;
};

module.exports = { argv, flag, opt };
