using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Dpu;

public sealed partial class DpuSwitch
{
    /// <summary>What the switch keeps about one burst while it goes through: each frame's fields, rule and colour, and the
    /// frames bound for each vport. One per thread (bursts from different cables run on different threads at once, each
    /// with its own); a second is made only when a delivery re-enters the switch on the same thread (a far end that
    /// answers at once), so nothing is allocated per frame or per burst.</summary>
    private sealed class Burst
    {
        [ThreadStatic] private static Burst? t_free;

        public Burst() => _lastHash = _lastFlow.FlowHash(); // the memo starts true: the hash of no flow

        public readonly FrameBatch One = new();
        public readonly FrameFields[] Fields = new FrameFields[FrameBatch.Capacity];
        /// <summary>The matching rule's index, −1 for none (default forwarding), <see cref="Skip"/>.</summary>
        public readonly int[] Rule = new int[FrameBatch.Capacity];
        /// <summary>The frame's <see cref="FrameFields.FlowHash"/>, or −1 until asked for (<see cref="FlowHash"/>).</summary>
        public readonly long[] Hash = new long[FrameBatch.Capacity];
        /// <summary>The last flow hashed and its hash: a byte-wise FNV-1a is ~16 dependent multiplies, and a burst's frames
        /// are mostly of a few flows.</summary>
        private FrameFields _lastFlow;
        private uint _lastHash;
        /// <summary>Dropped by its rule's meter.</summary>
        public readonly bool[] Red = new bool[FrameBatch.Capacity];
        /// <summary>An optical port's per-queue input counts, added to its counters once per burst.</summary>
        public readonly long[] QPackets = new long[16], QBytes = new long[16];
        /// <summary>By vport: its frames of this burst (made on a vport's first frame, then kept).</summary>
        public ToHost?[] Hosts = [];
        public int[] UsedVports = [];
        public int Used;

        private FrameFields _lastKey;
        private int _lastRule;
        private bool _lastKeyValid;

        /// <summary>A new burst from one ingress port on one <see cref="Tables"/> snapshot: the lookup memo starts empty.</summary>
        public void Start() => _lastKeyValid = false;

        /// <summary>The classifier's answer for frame <paramref name="i"/>; a frame with the same key as the frame looked up
        /// before it (same burst: same ingress, same tables) gets that answer without a probe.</summary>
        public int Lookup(DpuClassifier classifier, int i, int ingressVid)
        {
            ref FrameFields f = ref Fields[i];
            if (_lastKeyValid && f.SameKey(_lastKey)) return _lastRule;
            _lastRule = classifier.Lookup(f, ingressVid);
            _lastKey = f;
            _lastKeyValid = true;
            return _lastRule;
        }

        /// <summary>Frame <paramref name="i"/>'s flow hash, computed once (and not again for a frame of the flow before it).</summary>
        public uint FlowHash(int i)
        {
            long h = Hash[i];
            if (h >= 0) return (uint)h;
            ref FrameFields f = ref Fields[i];
            if (!f.SameFlow(_lastFlow))
            {
                _lastFlow = f;
                _lastHash = f.FlowHash();
            }
            Hash[i] = _lastHash;
            return _lastHash;
        }

        /// <summary>The thread's burst state, or a new one when the thread's is in use (re-entry).</summary>
        public static Burst Rent()
        {
            Burst? b = t_free;
            if (b is null) return new Burst();
            t_free = null;
            return b;
        }

        public void Return()
        {
            for (int k = 0; k < Used; k++) Hosts[UsedVports[k]]!.Reset(); // a burst that threw part way leaves nothing behind
            Used = 0;
            t_free = this;
        }

        /// <summary>The batch for <paramref name="vport"/> in this burst, started on its first frame.</summary>
        public ToHost For(int vport, HostPort port)
        {
            if (vport >= Hosts.Length)
            {
                Array.Resize(ref Hosts, Math.Max(vport + 1, 16));
                Array.Resize(ref UsedVports, Hosts.Length);
            }
            ToHost to = Hosts[vport] ??= new ToHost();
            if (to.Port is null)
            {
                to.Port = port;
                to.Pairs = port.Nic.ActivePairs; // once per burst
                UsedVports[Used++] = vport;
            }
            return to;
        }

        public sealed class ToHost
        {
            public readonly FrameBatch Frames = new();
            public readonly int[] Queues = new int[FrameBatch.Capacity];
            public readonly bool[] Delivered = new bool[FrameBatch.Capacity];
            public HostPort? Port;
            public int Pairs;
            /// <summary>Frames too long for the vport's MTU.</summary>
            public long Dropped;

            public void Reset()
            {
                Frames.Clear();
                Port = null;
                Dropped = 0;
            }
        }
    }
}
