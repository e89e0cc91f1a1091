#!/usr/bin/env python3
# expect.py: owns the self-tests' verdict. It runs one check-layers.py command
# and passes only if its exit status and output are the expected ones, so a
# checker that fails for the wrong reason (a crash, a missing archive) does
# not count as catching the fault.
#
#   expect.py STATUS [--contains TEXT]... [--plain-copy DIR] -- COMMAND...
#
# --plain-copy DIR copies every lib*.a of DIR into a temporary folder as a
# plain (not thin) archive, and replaces the word @PLAIN@ in COMMAND with
# that folder: meson makes thin archives of libraries it does not install,
# and this proves the checker reads the other kind too.

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile


def plain_copy(src, dst, ar):
	for archive in glob.glob(os.path.join(src, "lib*.a")):
		out = os.path.join(dst, os.path.basename(archive))
		members = subprocess.run([ar, "t", archive], check=True, stdout=subprocess.PIPE,
					 universal_newlines=True).stdout.split()
		with open(archive, "rb") as f:
			thin = f.read(8) == b"!<thin>\n"
		if not thin:
			shutil.copy(archive, out)
			continue
		paths = [m if os.path.isfile(m) else os.path.join(os.path.dirname(archive), m)
			 for m in members]
		subprocess.run([ar, "rcs", out] + paths, check=True)
		with open(out, "rb") as f:
			if f.read(8) != b"!<arch>\n":
				sys.exit("expect.py: %s is not a plain archive" % out)


def main():
	p = argparse.ArgumentParser()
	p.add_argument("status", type=int)
	p.add_argument("--contains", action="append", default=[])
	p.add_argument("--plain-copy")
	argv = sys.argv[1:]
	if "--" not in argv or argv.index("--") == len(argv) - 1:
		p.error("no command after --")
	cut = argv.index("--")
	args = p.parse_args(argv[:cut])
	cmd = argv[cut + 1:]
	with tempfile.TemporaryDirectory() as tmp:
		if args.plain_copy:
			plain_copy(args.plain_copy, tmp, os.environ.get("AR", "ar"))
			cmd = [tmp if a == "@PLAIN@" else a for a in cmd]
		r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
				   universal_newlines=True)
	sys.stdout.write(r.stdout)
	ok = True
	if r.returncode != args.status:
		print("expect.py: exit status %d, expected %d" % (r.returncode, args.status))
		ok = False
	for text in args.contains:
		if text not in r.stdout:
			print("expect.py: output lacks %r" % text)
			ok = False
	return 0 if ok else 1


if __name__ == "__main__":
	sys.exit(main())
