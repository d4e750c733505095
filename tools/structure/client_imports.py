#!/usr/bin/env python3
"""The import graph between the client's source files, for docs/benchmarks.md.

Usage: python3 tools/structure/client_imports.py [crates/tsunagu_client/src]

A file imports another when it names `crate::a::b` (or `super::b`) that
resolves to it. Prints the number of files, of import pairs, and every
cycle (strongly connected set of more than one file).
"""
import re,os,sys
root=sys.argv[1] if len(sys.argv) > 1 else "crates/tsunagu_client/src"
files={}
for dp,dn,fn in os.walk(root):
    for f in fn:
        if f.endswith('.rs'):
            p=os.path.join(dp,f); rel=os.path.relpath(p,root)[:-3]
            parts=rel.split('/')
            if parts[-1]=='mod': parts=parts[:-1]
            files['::'.join(parts) or 'lib']=open(p).read()
mods=set(files)
def resolve(path):
    parts=path.split('::')
    for n in range(len(parts),0,-1):
        c='::'.join(parts[:n])
        if c in mods: return c
    return 'lib'
edges={}
for n,src in files.items():
    src=re.split(r'#\[cfg\(test\)\]',src)[0]
    src='\n'.join(l.split('//')[0] if not l.strip().startswith('//') else '' for l in src.split('\n'))
    deps=set()
    for m in re.finditer(r'crate::((?:[a-z_]+::)*[a-z_]+)',src): deps.add(resolve(m.group(1)))
    for m in re.finditer(r'use crate::\{([^;]*)\};',src,re.S):
        for w in re.findall(r'([a-z_]+(?:::[a-z_]+)*)',m.group(1)): deps.add(resolve(w))
    # super:: references
    for m in re.finditer(r'super::((?:[a-z_]+::)*[a-z_]+)',src):
        parent='::'.join(n.split('::')[:-1]) if '::' in n else 'lib'
        base=(parent+'::'+m.group(1)) if parent!='lib' else m.group(1)
        deps.add(resolve(base) if parent!='lib' else resolve(m.group(1)))
    deps.discard(n)
    edges[n]=deps
sys.setrecursionlimit(10000)
idx={};low={};st=[];on=set();res=[];c=[0]
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in edges.get(v,()):
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        res.append(comp)
for v in sorted(edges):
    if v not in idx: sc(v)
big=[sorted(c) for c in res if len(c)>1]
print('files',len(files),'import pairs',sum(len(e) for e in edges.values()))
print('cycles:',[(len(c),c) for c in big])
