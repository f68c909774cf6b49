using NicScript.Driver.Memory;
using NicScript.Host.Manifests;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>share</c> global: MemShare — move or lend a DMA buffer to another V-Node without a copy (<c>CAP_MEM_SHARE</c>).</summary>
public sealed class ShareHandle
{
    private readonly VNodeContext _ctx;
    private readonly DmaMemory _memory;

    public ShareHandle(VNodeContext ctx, DmaMemory memory)
    {
        _ctx = ctx;
        _memory = memory;
    }

    /// <summary>Moves ownership to <paramref name="vnode"/>; this V-Node loses access at once. Returns the receiver's view.</summary>
    [ScriptApi]
    public DmaBuffer Transfer(DmaBuffer buffer, string vnode)
    {
        VNodeContext to = Peer(vnode);
        DmaError e = buffer.Region.Transfer(_ctx.DmaOwner, to.DmaOwner);
        if (e == DmaError.BudgetExceeded)
            throw new ScriptCallException($"share.transfer(dma#{buffer.Id}, {vnode}): {vnode} has no room for {buffer.Length} more bytes in its required_mem_mb");
        if (e != DmaError.None) throw buffer.Refused(e, "transfer");
        return new DmaBuffer(to, _memory, buffer.Region);
    }

    /// <summary>Lets <paramref name="vnode"/> read the buffer until <see cref="Revoke"/>.</summary>
    [ScriptApi]
    public DmaBuffer Lend(DmaBuffer buffer, string vnode)
    {
        VNodeContext to = Peer(vnode);
        DmaError e = buffer.Region.Lend(_ctx.DmaOwner, to.DmaOwner);
        if (e != DmaError.None) throw buffer.Refused(e, "lend");
        return new DmaBuffer(to, _memory, buffer.Region);
    }

    /// <summary>Ends the loan to <paramref name="vnode"/>, or every loan when it is null.</summary>
    [ScriptApi]
    public void Revoke(DmaBuffer buffer, string? vnode = null)
    {
        _ctx.Require(CapabilityKind.MemShare);
        DmaOwner? borrower = vnode is null ? null : Peer(vnode).DmaOwner;
        DmaError e = buffer.Region.Revoke(_ctx.DmaOwner, borrower);
        if (e != DmaError.None) throw buffer.Refused(e, "revoke");
    }

    private VNodeContext Peer(string vnode)
    {
        _ctx.Require(CapabilityKind.MemShare);
        if (!_ctx.Directory.TryGet(vnode, out VNodeContext peer))
            throw new ScriptCallException($"share: no V-Node named '{vnode}' is running");
        if (ReferenceEquals(peer, _ctx)) throw new ScriptCallException($"share: {vnode} cannot share a buffer with itself");
        return peer;
    }
}
