namespace NicScript.Host.Capabilities;

/// <summary>The services families keep for one run (the DPU's agent), which their handles find by type through the broker.</summary>
/// <remarks>The run that adds a service owns it: disposing this disposes each one, the last added first.</remarks>
public sealed class RunServices : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _services = [];

    /// <summary>Adds <paramref name="service"/> before the V-Nodes start.</summary>
    public void Add(IAsyncDisposable service) => _services.Add(service);

    /// <summary>The run's service of type <typeparamref name="T"/>, or null (a REPL session, a run that has none).</summary>
    public T? Get<T>() where T : class
    {
        foreach (IAsyncDisposable s in _services)
            if (s is T t) return t;
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _services.Count - 1; i >= 0; i--) await _services[i].DisposeAsync().ConfigureAwait(false);
        _services.Clear();
    }
}
