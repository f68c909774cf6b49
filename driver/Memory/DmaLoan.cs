namespace NicScript.Driver.Memory;

/// <summary>A MemShare loan: <paramref name="Borrower"/> may read a region it does not own.</summary>
public readonly record struct DmaLoan(DmaOwner Borrower, bool ReadOnly);
