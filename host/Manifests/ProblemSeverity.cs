namespace NicScript.Host.Manifests;

public enum ProblemSeverity
{
    Error,
    Warning,
}
