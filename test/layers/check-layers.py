#!/usr/bin/env python3
# check-layers.py: owns the layering rule of lib/ ("a file may use only its own
# layer and the layers below it; no file depends on itself through others")
# and checks it on the sources and on the built objects. Python 3, stdlib only.
#
# Usage, layered tree (what `meson test layers` runs):
#
#   check-layers.py --src lib --build build/lib --layers util,core,...,manifest
#                   [--allow worker:util,exec/worker_proto] [--include include]
#                   [--lib-prefix faas_] [--objdir worker=DIR] [--nm nm] [--ar ar]
#
#   --layers  the layer folders of --src, bottom to top, comma separated.
#   --allow   SIDE:ITEM,ITEM...  a folder of --src that is not a layer of the
#             library (a program, like worker/) and what it may use: ITEM is a
#             layer ("util": any file of it) or one file pair ("exec/worker_proto":
#             exec/worker_proto.c and .h). Repeatable.
#   --include a directory of headers outside the layers (the public include/)
#             that quoted includes may resolve to; using it is always allowed.
#   --lib-prefix  each layer L is the archive lib<prefix>L.a, looked for in
#             BUILD/L/ and then in BUILD/ (default prefix "faas_").
#   --objdir  SIDE=DIR: where a side folder's objects are; by default
#             lib<prefix>SIDE.a as for a layer, else BUILD/SIDE/*.p/*.o.
#
# Usage, any folder of objects (today's flat lib/, or halfway through a move):
#
#   check-layers.py --objects DIR [DIR...] [--src DIR]
#
#   Only the symbol graph (and, with --src, the include graph of the files
#   directly in that folder) and the cycle check; there are no layers.
#
# What is checked:
#   1. Every `#include "..."` of every .c/.h under a layer folder, resolved as
#      the compiler does (the file's own directory first, then --src itself,
#      then the layer folders bottom to top, then --include), must land in
#      the file's own layer or a lower one; it must resolve at all. Includes
#      in comments are ignored; #if blocks are not evaluated.
#   2. `nm` of every object of every layer archive (plain or thin): each
#      undefined symbol that another object of the library defines (global
#      T D B R C W V G S i u) is an edge between the two files, and it must
#      not go up. Symbols defined outside the library are ignored. A side
#      folder's objects resolve first against themselves (faas-worker has
#      its own copy of the handler API), then against the library.
#   3. No cycle: the graph of files (foo.c, foo.h and foo.c's object are one
#      node, "layer/foo"), with the edges of 1 and 2, has no strongly
#      connected component of more than one node. A cycle is printed as a
#      path, followed by every edge inside its component and why it exists.
#   Also: every folder of --src is a layer or a side folder, no .c/.h lies
#   directly in --src, and every .c of a layer is in its layer's archive.
#
# Exit status: 0 clean (one summary line), 1 a rule is broken (one line each),
# 2 bad usage or a tool failed.

import argparse
import collections
import glob
import os
import re
import subprocess
import sys

# nm's letters for a global symbol an object defines, and for a reference.
DEFINED = set("TDBRCWVGSiu")
WEAK = set("WV")
UNDEFINED = set("Uwv")
SOURCE_EXT = (".c", ".h")
INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"')


class Fatal(Exception):
	"""Bad usage or a failing tool: exit status 2, not a layering problem."""


class Obj:
	"""One object file: the node of its source, its layer, and its symbols."""

	def __init__(self, display, node, layer, universe):
		self.display = display
		self.node = node
		self.layer = layer
		self.universe = universe  # None: the library; else the side folder
		self.defs = {}  # name -> nm letter
		self.undefs = set()


class Graph:
	"""File nodes, edges between them, and why each edge exists."""

	def __init__(self):
		self.nodes = set()
		self.why = collections.defaultdict(list)  # (a, b) -> reasons

	def add(self, a, b, reason):
		self.nodes.update((a, b))
		if a != b and reason not in self.why[(a, b)]:
			self.why[(a, b)].append(reason)

	def succ(self):
		out = collections.defaultdict(set)
		for a, b in self.why:
			if a != b:
				out[a].add(b)
		return out


# --- running nm and ar ------------------------------------------------------

def run(cmd):
	try:
		p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
				   universal_newlines=True)
	except OSError as e:
		raise Fatal("cannot run %s: %s" % (cmd[0], e))
	if p.returncode != 0:
		raise Fatal("%s failed: %s" % (" ".join(cmd), p.stderr.strip()))
	return p.stdout


def parse_nm_line(fields, obj):
	"""Fills obj from one `nm -P` line split into fields: name letter [value size]."""
	if len(fields) < 2:
		return
	name, letter = fields[0], fields[1]
	if letter in DEFINED:
		obj.defs[name] = letter
	elif letter in UNDEFINED:
		obj.undefs.add(name)


def nm_object(nm, path, obj):
	for line in run([nm, "-P", path]).splitlines():
		parse_nm_line(line.split(), obj)


def is_thin(path):
	with open(path, "rb") as f:
		return f.read(8) == b"!<thin>\n"


def archive_members(ar, path):
	"""The members of an archive as (member name, object path or None).

	A thin archive only names its objects: GNU ar prints them relative to the
	current directory, other ar programs as stored (relative to the archive),
	so both are tried. A plain archive's members are read through nm."""
	names = run([ar, "t", path]).split("\n")
	names = [n for n in names if n]
	if not is_thin(path):
		return [(n, None) for n in names]
	out = []
	for n in names:
		for cand in (n, os.path.join(os.path.dirname(path), n)):
			if os.path.isfile(cand):
				out.append((os.path.basename(n), cand))
				break
		else:
			raise Fatal("%s: thin archive member %s not found" % (path, n))
	return out


def nm_archive(nm, path, objs_by_member):
	"""Fills the objects of a plain archive from one `nm -P -A` run."""
	line_re = re.compile(r"^(.*)\[([^\]]+)\]: (.*)$")
	for line in run([nm, "-P", "-A", path]).splitlines():
		m = line_re.match(line)
		if m and m.group(2) in objs_by_member:
			parse_nm_line(m.group(3).split(), objs_by_member[m.group(2)])


# --- the source tree --------------------------------------------------------

def strip_comments(text):
	"""The text with comments blanked out, newlines kept (so lines still count)."""
	out = []
	i, n = 0, len(text)
	state = None  # None, '"', "'", "//", "/*"
	while i < n:
		c = text[i]
		two = text[i:i + 2]
		if state is None:
			if two in ("//", "/*"):
				state = two
				out.append("  ")
				i += 2
				continue
			if c in "\"'":
				state = c
		elif state in "\"'":
			if c == "\\":
				out.append(text[i:i + 2])
				i += 2
				continue
			if c == state or c == "\n":
				state = None
		elif state == "//":
			if c == "\n":
				state = None
			else:
				c = " "
		elif two == "*/":
			state = None
			out.append("  ")
			i += 2
			continue
		elif c != "\n":
			c = " "
		out.append(c)
		i += 1
	return "".join(out)


def quoted_includes(path):
	with open(path, encoding="utf-8", errors="replace") as f:
		text = strip_comments(f.read())
	for lineno, line in enumerate(text.split("\n"), 1):
		m = INCLUDE_RE.match(line)
		if m:
			yield lineno, m.group(1)


def node_of(rel):
	"""The node of a path relative to --src: "core/errors.c" -> "core/errors"."""
	return os.path.splitext(rel)[0].replace(os.sep, "/")


def scan_tree(src, folders, problems):
	"""Every .c/.h under the known folders, as {path: (folder, node)}."""
	files = {}
	for entry in sorted(os.listdir(src)):
		full = os.path.join(src, entry)
		if os.path.isdir(full):
			if entry not in folders:
				problems.append("%s: folder is not a layer (not in --layers or --allow)"
						% full)
				continue
			for root, dirs, names in os.walk(full):
				dirs.sort()
				for name in sorted(names):
					if name.endswith(SOURCE_EXT):
						p = os.path.join(root, name)
						rel = os.path.relpath(p, src)
						files[os.path.normpath(p)] = (entry, node_of(rel))
		elif entry.endswith(SOURCE_EXT):
			problems.append("%s: file is not in a layer folder" % full)
	return files


# --- the rule -------------------------------------------------------------------

class Rule:
	"""Who may use whom: layers by rank, side folders by their allow lists."""

	def __init__(self, layers, allow):
		self.rank = {l: i for i, l in enumerate(layers)}
		self.allow = allow  # side -> set of layers and nodes

	def check(self, from_layer, to_layer, to_node):
		"""None if allowed, else the reason it is not."""
		if from_layer == to_layer:
			return None
		if from_layer in self.allow:
			items = self.allow[from_layer]
			if to_layer in items or to_node in items:
				return None
			return "not allowed for %s (allowed: %s)" % (
				from_layer, ", ".join(sorted(items)) or "nothing")
		if to_layer not in self.rank:
			return "from %s, which is not part of the library" % to_layer
		if self.rank[to_layer] > self.rank[from_layer]:
			return "from higher layer %s" % to_layer
		return None


def resolve_include(path, inc, search):
	for d in [os.path.dirname(path)] + search:
		p = os.path.normpath(os.path.join(d, inc))
		if os.path.isfile(p):
			return p
	return None


def check_includes(src, files, rule, search, public, graph, problems):
	src = os.path.normpath(src)
	for path, (layer, node) in sorted(files.items()):
		for lineno, inc in quoted_includes(path):
			where = "%s:%d" % (path, lineno)
			target = resolve_include(path, inc, search)
			if target is None:
				problems.append('%s: cannot resolve #include "%s"' % (where, inc))
				continue
			if any(target.startswith(d + os.sep) for d in public):
				continue
			rel = os.path.relpath(target, src)
			if rel.startswith(".."):
				continue  # outside the library: a system or third-party header
			if target in files:
				to_layer, to_node = files[target]
			else:
				first = rel.split(os.sep)[0]
				to_layer = first if first != rel else "(no layer folder)"
				to_node = node_of(rel)
			graph.add(node, to_node, 'include %s "%s"' % (where, inc))
			why = rule.check(layer, to_layer, to_node)
			if why:
				problems.append("%s: %s file includes %s %s" % (where, layer, rel, why))


# --- objects ----------------------------------------------------------------

def mangled(rel):
	return rel.replace(os.sep, "_").replace("/", "_")


def match_source(member, candidates, base):
	"""The source (relative to --src) an object was compiled from, or None.

	meson names an object after its source's path relative to the target's
	folder, with / turned into _ ("foo.c.o", "sub_foo.c.o", ".._exec_x.c.o").
	An exact name beats a suffix, a source in the target's own folder beats
	one elsewhere, and a longer path beats a shorter one."""
	stem = member[:-2] if member.endswith(".o") else member
	best, best_score = None, None
	for rel in candidates:
		exact = mangled(os.path.relpath(rel, base))
		forms = (exact, mangled(rel), os.path.basename(rel))
		if not any(stem == f or stem.endswith("_" + f) for f in forms):
			continue
		score = (stem == exact, rel.startswith(base + "/"), len(rel))
		if best_score is None or score > best_score:
			best, best_score = rel, score
	return best


def find_archive(build, prefix, layer):
	name = "lib%s%s.a" % (prefix, layer)
	for cand in (os.path.join(build, layer, name), os.path.join(build, name)):
		if os.path.isfile(cand):
			return cand
	return None


def load_objects(args, ar, files, layers, sides, problems):
	"""The objects of every layer archive and side folder, each tied to its source."""
	by_layer = collections.defaultdict(list)
	for rel_path, (layer, node) in files.items():
		if rel_path.endswith(".c"):
			by_layer[layer].append(os.path.relpath(rel_path, args.src))
	all_c = sorted(r for l in by_layer for r in by_layer[l])
	objdirs = dict(args.objdir)
	objs = []
	for layer in layers + sides:
		side = layer in sides
		archive = None if layer in objdirs else find_archive(args.build, args.lib_prefix, layer)
		if archive:
			members = archive_members(ar, archive)
			shown = os.path.basename(archive)
		else:
			if layer in objdirs:
				pattern = os.path.join(objdirs[layer], "*.o")
			else:
				pattern = os.path.join(args.build, layer, "*.p", "*.o")
			paths = sorted(glob.glob(pattern))
			if not side or not paths:
				raise Fatal("no archive lib%s%s.a under %s (nor objects %s)" % (
					args.lib_prefix, layer, args.build, pattern))
			members = [(os.path.basename(p), p) for p in paths]
			shown = os.path.dirname(paths[0])
		seen = set()
		plain = {}
		candidates = all_c if side else sorted(by_layer[layer])
		for member, path in members:
			rel = match_source(member, candidates, layer)
			if rel:
				seen.add(rel)
				o_layer, node = files[os.path.normpath(os.path.join(args.src, rel))]
			else:
				o_layer, node = layer, "%s/%s" % (layer, member)
			o = Obj("%s(%s)" % (shown, member), node, o_layer, layer if side else None)
			objs.append(o)
			if path:
				nm_object(args.nm, path, o)
			else:
				plain[member] = o
		if plain:
			nm_archive(args.nm, archive, plain)
		if not side:
			for rel in sorted(set(by_layer[layer]) - seen):
				problems.append("%s: not built into %s" % (
					os.path.join(args.src, rel), shown))
	return objs


def check_symbols(objs, rule, graph, problems):
	"""Turns each undefined symbol into an edge to the object that defines it."""
	defs = collections.defaultdict(lambda: collections.defaultdict(list))
	for o in objs:
		for name, letter in o.defs.items():
			defs[o.universe][name].append(o)
	for o in objs:
		graph.nodes.add(o.node)
		for name in sorted(o.undefs):
			targets = defs[o.universe].get(name) if o.universe else None
			targets = targets or defs[None].get(name)
			if not targets:
				continue  # libc, libuv, cJSON, http-parser, the sanitizers
			strong = [t for t in targets if t.defs[name] not in WEAK]
			for t in strong or targets:
				if t.node == o.node:
					continue
				graph.add(o.node, t.node, "symbol %s" % name)
				if rule is None:
					continue
				why = rule.check(o.layer, t.layer, t.node)
				if why:
					problems.append("%s (%s) uses %s from %s (%s)%s" % (
						o.display, o.layer, name, t.display, t.layer,
						"" if why.startswith("from higher") else ": " + why))


# --- cycles -----------------------------------------------------------------

def components(nodes, succ):
	"""Tarjan's strongly connected components, without recursion."""
	index, low, on, stack, out = {}, {}, set(), [], []
	counter = [0]
	for root in sorted(nodes):
		if root in index:
			continue
		work = [(root, iter(sorted(succ.get(root, ()))))]
		index[root] = low[root] = counter[0]
		counter[0] += 1
		stack.append(root)
		on.add(root)
		while work:
			v, it = work[-1]
			w = next(it, None)
			if w is not None:
				if w not in index:
					index[w] = low[w] = counter[0]
					counter[0] += 1
					stack.append(w)
					on.add(w)
					work.append((w, iter(sorted(succ.get(w, ())))))
				elif w in on:
					low[v] = min(low[v], index[w])
				continue
			work.pop()
			if work:
				low[work[-1][0]] = min(low[work[-1][0]], low[v])
			if low[v] == index[v]:
				comp = []
				while True:
					w = stack.pop()
					on.discard(w)
					comp.append(w)
					if w == v:
						break
				out.append(sorted(comp))
	return out


def shortest_cycle(start, comp, succ):
	"""The shortest path start -> ... -> start inside one component."""
	inside = set(comp)
	prev = {}
	queue = collections.deque([start])
	while queue:
		v = queue.popleft()
		for w in sorted(succ.get(v, ())):
			if w not in inside:
				continue
			if w == start:
				path = [v]
				while path[-1] != start:
					path.append(prev[path[-1]])
				return list(reversed(path)) + [start]
			if w not in prev:
				prev[w] = v
				queue.append(w)
	return [start]


def check_cycles(graph, problems):
	succ = graph.succ()
	for comp in components(graph.nodes, succ):
		if len(comp) < 2:
			continue
		lines = ["cycle: " + " -> ".join(shortest_cycle(comp[0], comp, succ)),
			 "  component of %d files: %s" % (len(comp), " ".join(comp))]
		inside = set(comp)
		for (a, b), why in sorted(graph.why.items()):
			if a in inside and b in inside and a != b:
				lines.append("    %s -> %s: %s" % (a, b, "; ".join(why)))
		problems.append("\n".join(lines))


# --- main -------------------------------------------------------------------

def parse_args(argv):
	p = argparse.ArgumentParser(description="Check the layering of lib/ "
				    "(see the comment at the top of this file).")
	p.add_argument("--src", help="the library's source folder (lib/)")
	p.add_argument("--build", help="the library's build folder (build/lib)")
	p.add_argument("--layers", help="layer folders, bottom to top, comma separated")
	p.add_argument("--allow", action="append", default=[], metavar="SIDE:ITEM,...")
	p.add_argument("--include", action="append", default=[], metavar="DIR")
	p.add_argument("--lib-prefix", default="faas_")
	p.add_argument("--objdir", action="append", default=[], metavar="SIDE=DIR")
	p.add_argument("--objects", nargs="+", metavar="DIR",
		       help="only the symbol and cycle checks, on these folders of .o files")
	p.add_argument("--nm", default=os.environ.get("NM", "nm"))
	p.add_argument("--ar", default=os.environ.get("AR", "ar"))
	args = p.parse_args(argv)
	if not args.objects and not (args.src and args.build and args.layers):
		p.error("give --src, --build and --layers, or --objects")
	pairs = []
	for item in args.objdir:
		side, sep, d = item.partition("=")
		if not sep:
			p.error("--objdir wants SIDE=DIR, not %r" % item)
		pairs.append((side, d))
	args.objdir = pairs
	return args


def parse_allow(items):
	allow = {}
	for item in items:
		side, sep, rest = item.partition(":")
		if not sep or not side:
			raise Fatal("--allow wants SIDE:ITEM,ITEM..., not %r" % item)
		allow.setdefault(side, set()).update(x for x in rest.split(",") if x)
	return allow


def main_layers(args, problems):
	layers = [l for l in args.layers.split(",") if l]
	allow = parse_allow(args.allow)
	sides = sorted(s for s in allow if s not in layers)
	rule = Rule(layers, allow)
	graph = Graph()
	files = scan_tree(args.src, set(layers) | set(sides), problems)
	for path, (layer, node) in files.items():
		graph.nodes.add(node)
	search = [args.src] + [os.path.join(args.src, l) for l in layers + sides] + args.include
	public = [os.path.normpath(d) for d in args.include]
	check_includes(args.src, files, rule, search, public, graph, problems)
	objs = load_objects(args, args.ar, files, layers, sides, problems)
	check_symbols(objs, rule, graph, problems)
	check_cycles(graph, problems)
	side_text = "".join("; %s may use %s" % (s, ", ".join(sorted(allow[s]))) for s in sides)
	return "%d files (%d objects), %d edges; layers %s%s" % (
		len(graph.nodes), len(objs), len(graph.why), " < ".join(layers), side_text)


def main_objects(args, problems):
	graph = Graph()
	objs = []
	for d in args.objects:
		for path in sorted(glob.glob(os.path.join(d, "*.o"))):
			name = os.path.basename(path)[:-2]
			o = Obj(path, os.path.splitext(name)[0], None, None)
			nm_object(args.nm, path, o)
			objs.append(o)
	if not objs:
		raise Fatal("no .o files in %s" % " ".join(args.objects))
	check_symbols(objs, None, graph, problems)
	if args.src:
		# A flat folder: every quoted include that lands in it is an edge.
		src = os.path.normpath(args.src)
		for name in sorted(os.listdir(src)):
			path = os.path.join(src, name)
			if not name.endswith(SOURCE_EXT):
				continue
			for lineno, inc in quoted_includes(path):
				target = resolve_include(path, inc, [src])
				if target and os.path.dirname(target) == src:
					graph.add(os.path.splitext(name)[0],
						  os.path.splitext(os.path.basename(target))[0],
						  'include %s:%d "%s"' % (path, lineno, inc))
	check_cycles(graph, problems)
	return "%d files (%d objects), %d edges; no layers (--objects)" % (
		len(graph.nodes), len(objs), len(graph.why))


def main(argv):
	args = parse_args(argv)
	problems = []
	try:
		if args.objects:
			summary = main_objects(args, problems)
		else:
			summary = main_layers(args, problems)
	except Fatal as e:
		print("check-layers: error: %s" % e, file=sys.stderr)
		return 2
	for line in problems:
		print(line)
	if problems:
		print("check-layers: FAILED: %d problem(s)" % len(problems))
		return 1
	print("check-layers: ok: " + summary)
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
