// hello.js — a first V-Node script: the same objects as hello.csx, in camelCase.
log.info("hello from {Name} {Version}", vnode.name, vnode.version);

const buf = dma.alloc(2048);                       // page-aligned, zeroed, inside required_mem_mb
const n = buf.writeText(0, "hello, dma");
log.info("wrote {Bytes} bytes at iova {Iova}", n, buf.iova);

metrics.inc("greetings");
metrics.set("dma_bytes", dma.usedBytes);

const text = buf.readText(0, n);
buf.free();                                         // scrubbed and unmapped
text;                                               // the script's result
