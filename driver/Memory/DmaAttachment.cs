namespace NicScript.Driver.Memory;

/// <summary>One owner attached to one function's <see cref="IommuDomain"/>; disposing it detaches (once, however often disposed).</summary>
public sealed class DmaAttachment : IDisposable
{
    private int _detached;

    internal DmaAttachment(IommuDomain domain, DmaOwner owner)
    {
        Domain = domain;
        Owner = owner;
    }

    public IommuDomain Domain { get; }

    public DmaOwner Owner { get; }

    public bool Detached => Volatile.Read(ref _detached) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _detached, 1) == 0) Domain.Detach(Owner);
    }
}
