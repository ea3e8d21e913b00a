#!/usr/bin/env python3
"""Writes a libvirt test-driver host description (<node>) from the XML
hearth-provision kept in its state dir, so a later command's connection
starts with the objects an earlier `up` made.

usage: state_xml.py STATE OUT [--network-orig] [--drop-domain NAME]
                    [--domain-memory NAME MIB] [--domain-uuid NAME UUID]
                    [--extra FILE]...
"""
import glob
import os
import re
import sys

state, out, args = sys.argv[1], sys.argv[2], sys.argv[3:]
drop, memory, uuids, extras, orig = set(), {}, {}, [], False
while args:
    a = args.pop(0)
    if a == "--drop-domain":
        drop.add(args.pop(0))
    elif a == "--domain-memory":
        n = args.pop(0)
        memory[n] = args.pop(0)
    elif a == "--domain-uuid":
        n = args.pop(0)
        uuids[n] = args.pop(0)
    elif a == "--extra":
        extras.append(open(args.pop(0)).read())
    elif a == "--network-orig":
        orig = True
    else:
        sys.exit("unknown option " + a)

def read(p):
    return re.sub(r"^<\?xml[^>]*>\s*", "", open(p).read())

parts = ["<node>"]
parts.append(read(os.path.join(state, "network.orig.xml" if orig else "network.xml")))
pool = read(os.path.join(state, "pool.xml"))
vols = "".join(read(p) for p in sorted(glob.glob(os.path.join(state, "*", "*.vol.xml"))))
parts.append(pool.replace("</pool>", vols + "</pool>"))
for p in sorted(glob.glob(os.path.join(state, "*", "domain.xml"))):
    name = os.path.basename(os.path.dirname(p))
    if name in drop:
        continue
    x = read(p)
    if name in memory:
        x = re.sub(r"<memory unit='KiB'>\d+</memory>",
                   "<memory unit='MiB'>%s</memory>" % memory[name], x)
        x = re.sub(r"<currentMemory unit='KiB'>\d+</currentMemory>", "", x)
    if name in uuids:
        x = re.sub(r"<uuid>[^<]*</uuid>", "<uuid>%s</uuid>" % uuids[name], x)
    parts.append(x)
parts.extend(extras)
parts.append("</node>")
with open(out, "w") as f:
    f.write("\n".join(parts))
