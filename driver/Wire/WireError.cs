namespace NicScript.Driver.Wire;

/// <summary>Why bytes from the other side were refused (STYLE §7.2): decoders return it and never throw.</summary>
public enum WireError : byte
{
    None,
    /// <summary>Fewer bytes than the structure's size.</summary>
    Truncated,
    /// <summary>More bytes than the structure's size where an exact length is asked for.</summary>
    TooLong,
    /// <summary>A must-be-zero field is not zero.</summary>
    ReservedBitsSet,
    /// <summary>An enum-checked field holds a value outside its set.</summary>
    UnknownEnumValue,
    /// <summary>An encoder was given a value wider than its field.</summary>
    OutOfRange,
    BadChecksum,
}
