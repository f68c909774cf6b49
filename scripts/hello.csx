// hello.csx — the C# twin of hello.js: the same objects, in PascalCase.
Log.Info("hello from {Name} {Version}", VNode.Name, VNode.Version);

var buf = Dma.Alloc(2048);                          // page-aligned, zeroed, inside required_mem_mb
var n = buf.WriteText(0, "hello, dma");
Log.Info("wrote {Bytes} bytes at iova {Iova}", n, buf.Iova);

Metrics.Inc("greetings");
Metrics.Set("dma_bytes", Dma.UsedBytes);

var text = buf.ReadText(0, n);
buf.Free();                                         // scrubbed and unmapped
text                                                // the script's result
