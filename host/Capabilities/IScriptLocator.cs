namespace NicScript.Host.Capabilities;

/// <summary>Tells where in its script a V-Node is executing, for audit events. Slow path only.</summary>
public interface IScriptLocator
{
    SourceSpan Locate();
}
