// vdisk-io.js — a host driver for one of the DPU's virtual disks. The control plane (the `dpu` handle, the same rpcs
// as gRPC) creates the disk and grows it; the disk then is a virtio-blk function on the machine's PCI bus, which this
// script brings up with the `blk` driver and uses: GET_ID, a write, FLUSH (the backing file is fsync'ed), a read back.
// Settings: pvf_id (the disk's slot; its function is 02:<pvf_id>.0), sectors, mode ("write", "read" or "write-read"),
// hold_ms (stay up afterwards, for a test that kills the process).
const id = Number(vnode.setting("pvf_id", "5"));
const sectors = Number(vnode.setting("sectors", "2097152"));            // 1 GiB of 512-byte sectors
const mode = vnode.setting("mode", "write-read");

dpu.vdiskCreate({ name: "scratch", pvf_id: id });                      // idempotent: a second run finds it
dpu.vdiskUpdate({ pvf_id: id, number_sectors: sectors });              // the same size again changes nothing

const disk = blk.open(`02:${id.toString(16).padStart(2, "0")}.0`).up();
log.info("vdisk {Id}: serial {Serial}, {Sectors} sectors", id, disk.id(), disk.capacity);

const pattern = [];
for (let i = 0; i < 4096; i++) pattern.push((i * 7 + 13) & 0xff);       // 4 KiB, 8 sectors

if (mode.includes("write")) {
  disk.write(100, pattern);
  disk.flush();
  log.info("wrote and flushed {Bytes} bytes at sector 100", pattern.length);
}
if (mode.includes("read")) {
  const got = disk.read(100, 8);
  for (let i = 0; i < pattern.length; i++)
    if (got[i] !== pattern[i]) vnode.fail(`sector 100 byte ${i}: ${got[i]}, expected ${pattern[i]}`);
  log.info("sector 100 holds the pattern");
}
const cfg = dpu.vdiskGetPvfCfg({ pvf_id: id });
log.info("vdisk {Id}: trans_status {State}, {Queues} queue(s) active", id, cfg.trans_status, cfg.nr_active_queue);

const hold = Number(vnode.setting("hold_ms", "0"));
if (hold > 0) vnode.after(hold, () => {});
