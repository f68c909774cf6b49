namespace NicScript.Host.Capabilities;

public sealed class ShareHandle
{
}
