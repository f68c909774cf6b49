namespace NicScript.Host.Scripting.CSharp;

/// <summary>THE allow-list of C# scripts: every type and member a V-Node script may reference. Deny by default.</summary>
/// <remarks>
/// One file for a reviewer; <see cref="ScriptAllowList"/> parses it, and both the source check
/// (<see cref="CSharpSandbox"/>, for messages) and the IL check (<see cref="ScriptAssemblyVerifier"/>, the guarantee) consult
/// it, so the two never disagree. Syntax, one entry a line:
/// <code>
/// ## reason                          every entry up to the next "##" is allowed for this reason
/// Namespace.Type`1+Nested            the type and all its members
/// Namespace.Type: A B set_C          only these members: A matches a method/field A and the getter get_A; a setter is named set_A
/// Namespace.Type: * -A -B            all members but A and B
/// Namespace.Type: * !System.TimeSpan all members but those whose signature mentions System.TimeSpan
/// Namespace.Type: M&lt;data&gt;            M only when every generic argument is plain data (no object, interface or NicScript type)
/// Namespace.*: [ScriptApi] ToString  every type of the namespace and below; members marked [ScriptApi], and ToString
/// il-only Namespace.Type: M          only in compiled code the compiler or the host emits (patterns the IL check knows), never in source
/// il-only own-signatures T: M       also never in the signature of another type's member (runtime handles: no API may take or give one)
/// helper-only Namespace.Type: M      only inside the compiler's &lt;PrivateImplementationDetails&gt;.InlineArray* helpers, whose call sites the IL check bounds
/// </code>
/// Rules the list does not spell out: a member is refused when any type in its signature is refused or is a pointer; a
/// generic instantiation is allowed only if every type argument is; nested types of an entry with all members ("*")
/// are allowed like it; types the script declares are its own (their bodies are checked like the rest).
/// </remarks>
internal static class AllowListText
{
    public const string Text = """
        ## values: pure data, no process state (a member whose signature names a refused type is refused anyway)
        System.Object: .ctor Equals GetHashCode ToString ReferenceEquals
        System.ValueType: Equals GetHashCode ToString
        System.Void
        System.Boolean
        System.Byte
        System.SByte
        System.Int16
        System.UInt16
        System.Int32
        System.UInt32
        System.Int64
        System.UInt64
        System.Single
        System.Double
        System.Decimal
        System.Char
        System.Half
        System.Int128
        System.UInt128
        System.String: * -Intern -IsInterned
        System.Enum
        System.Guid
        System.Nullable
        System.Nullable`1
        System.Index
        System.Range
        System.HashCode
        System.Math
        System.MathF
        System.DateTime
        System.DateTimeOffset
        System.DateTimeKind
        System.DateOnly
        System.TimeOnly
        System.DayOfWeek
        System.TimeSpan
        System.StringComparison
        System.StringComparer
        System.StringSplitOptions
        System.MidpointRounding
        System.Base64FormattingOptions
        System.Convert
        System.BitConverter
        System.FormattableString
        System.EventArgs
        System.Random: * -Shared
        System.Numerics.BigInteger
        System.Numerics.Complex
        System.Numerics.BitOperations

        ## tuples
        System.Tuple
        System.Tuple`1
        System.Tuple`2
        System.Tuple`3
        System.Tuple`4
        System.Tuple`5
        System.Tuple`6
        System.Tuple`7
        System.Tuple`8
        System.ValueTuple
        System.ValueTuple`1
        System.ValueTuple`2
        System.ValueTuple`3
        System.ValueTuple`4
        System.ValueTuple`5
        System.ValueTuple`6
        System.ValueTuple`7
        System.ValueTuple`8

        ## interfaces of values and collections
        System.IComparable
        System.IComparable`1
        System.IEquatable`1
        System.IDisposable
        System.IAsyncDisposable
        System.IFormattable
        System.IFormatProvider
        System.ISpanFormattable
        System.IUtf8SpanFormattable
        System.IParsable`1
        System.ISpanParsable`1
        System.Collections.IEnumerable
        System.Collections.IEnumerator
        System.Collections.ICollection
        System.Collections.IList
        System.Collections.IStructuralEquatable
        System.Collections.IStructuralComparable
        System.Collections.Generic.IEnumerable`1
        System.Collections.Generic.IEnumerator`1
        System.Collections.Generic.ICollection`1
        System.Collections.Generic.IList`1
        System.Collections.Generic.IDictionary`2
        System.Collections.Generic.IReadOnlyCollection`1
        System.Collections.Generic.IReadOnlyList`1
        System.Collections.Generic.IReadOnlyDictionary`2
        System.Collections.Generic.ISet`1
        System.Collections.Generic.IReadOnlySet`1
        System.Collections.Generic.IComparer`1
        System.Collections.Generic.IEqualityComparer`1
        System.Runtime.CompilerServices.ITuple

        ## delegates: create and invoke (no Method, DynamicInvoke, CreateDelegate: reflection)
        System.Delegate: Combine Remove op_Equality op_Inequality Equals GetHashCode
        System.MulticastDelegate: op_Equality op_Inequality Equals GetHashCode
        System.Action: .ctor Invoke
        System.Action`1: .ctor Invoke
        System.Action`2: .ctor Invoke
        System.Action`3: .ctor Invoke
        System.Action`4: .ctor Invoke
        System.Action`5: .ctor Invoke
        System.Action`6: .ctor Invoke
        System.Action`7: .ctor Invoke
        System.Action`8: .ctor Invoke
        System.Func`1: .ctor Invoke
        System.Func`2: .ctor Invoke
        System.Func`3: .ctor Invoke
        System.Func`4: .ctor Invoke
        System.Func`5: .ctor Invoke
        System.Func`6: .ctor Invoke
        System.Func`7: .ctor Invoke
        System.Func`8: .ctor Invoke
        System.Func`9: .ctor Invoke
        System.Predicate`1: .ctor Invoke
        System.Comparison`1: .ctor Invoke
        System.Converter`2: .ctor Invoke
        System.Lazy`1: .ctor Value IsValueCreated ToString

        ## arrays and spans: every access bounds-checked (Span's pointer constructor only in the compiler's stackalloc / constant-data patterns)
        System.Array: * -CreateInstance -CreateInstanceFromArrayType
        System.ArraySegment`1
        System.Span`1
        System.ReadOnlySpan`1
        System.Memory`1: * -Pin
        System.ReadOnlyMemory`1: * -Pin
        System.MemoryExtensions
        System.Buffers.Binary.BinaryPrimitives
        System.Buffers.Text.Utf8Formatter
        System.Buffers.Text.Utf8Parser
        System.Buffers.Text.Base64
        System.Buffers.IBufferWriter`1
        System.Buffers.ArrayBufferWriter`1
        System.Buffers.OperationStatus
        System.Buffers.StandardFormat

        ## collections owned by the script
        System.Collections.Generic.List`1
        System.Collections.Generic.Dictionary`2
        System.Collections.Generic.HashSet`1
        System.Collections.Generic.Queue`1
        System.Collections.Generic.Stack`1
        System.Collections.Generic.SortedDictionary`2
        System.Collections.Generic.SortedList`2
        System.Collections.Generic.SortedSet`1
        System.Collections.Generic.LinkedList`1
        System.Collections.Generic.LinkedListNode`1
        System.Collections.Generic.PriorityQueue`2
        System.Collections.Generic.KeyValuePair
        System.Collections.Generic.KeyValuePair`2
        System.Collections.Generic.Comparer`1
        System.Collections.Generic.EqualityComparer`1
        System.Collections.Generic.CollectionExtensions
        System.Collections.Generic.KeyNotFoundException
        System.Collections.BitArray
        System.Collections.ObjectModel.ReadOnlyCollection`1
        System.Collections.ObjectModel.ReadOnlyDictionary`2
        System.Collections.ObjectModel.Collection`1
        System.Collections.Immutable.ImmutableArray
        System.Collections.Immutable.ImmutableArray`1
        System.Collections.Immutable.ImmutableList
        System.Collections.Immutable.ImmutableList`1
        System.Collections.Immutable.ImmutableDictionary
        System.Collections.Immutable.ImmutableDictionary`2
        System.Collections.Immutable.ImmutableHashSet
        System.Collections.Immutable.ImmutableHashSet`1
        System.Collections.Immutable.ImmutableSortedDictionary
        System.Collections.Immutable.ImmutableSortedDictionary`2

        ## LINQ to objects (not Queryable: expression trees; not AsParallel: threads)
        System.Linq.Enumerable
        System.Linq.IOrderedEnumerable`1
        System.Linq.IGrouping`2
        System.Linq.ILookup`2
        System.Linq.Lookup`2

        ## text
        System.Text.StringBuilder
        System.Text.Rune
        System.Text.Encoding: UTF8 ASCII Unicode Latin1 GetBytes GetString GetByteCount GetCharCount GetChars GetMaxByteCount GetMaxCharCount WebName
        System.Globalization.CultureInfo: InvariantCulture CurrentCulture GetCultureInfo Name ToString Equals GetHashCode
        System.Globalization.NumberStyles
        System.Globalization.DateTimeStyles
        System.Globalization.CompareOptions
        System.Globalization.UnicodeCategory
        System.Globalization.CharUnicodeInfo
        System.Runtime.CompilerServices.DefaultInterpolatedStringHandler
        System.Runtime.CompilerServices.FormattableStringFactory

        ## Regex: every match runs under the process-wide default timeout (RegexDefaults); a script cannot choose its own
        System.Text.RegularExpressions.Regex: * !System.TimeSpan -InfiniteMatchTimeout -CacheSize -set_CacheSize -CompileToAssembly -MatchTimeout
        System.Text.RegularExpressions.RegexOptions
        System.Text.RegularExpressions.Match
        System.Text.RegularExpressions.MatchCollection
        System.Text.RegularExpressions.Group
        System.Text.RegularExpressions.GroupCollection
        System.Text.RegularExpressions.Capture
        System.Text.RegularExpressions.CaptureCollection
        System.Text.RegularExpressions.ValueMatch
        System.Text.RegularExpressions.MatchEvaluator: .ctor Invoke
        System.Text.RegularExpressions.RegexMatchTimeoutException: .ctor Message Input Pattern

        ## JSON: parse into a document (depth-limited), write script data (Serialize reflects over its argument: plain data only)
        System.Text.Json.JsonDocument: Parse RootElement Dispose
        System.Text.Json.JsonDocumentOptions
        System.Text.Json.JsonElement
        System.Text.Json.JsonProperty
        System.Text.Json.JsonValueKind
        System.Text.Json.JsonException: .ctor Message
        System.Text.Json.JsonSerializer: Serialize<data>
        System.Text.Json.JsonSerializerOptions: -*

        ## exceptions: throw, catch, read the message (not TargetSite, Data, StackTrace, HResult: reflection and frames)
        System.Exception: .ctor Message InnerException GetBaseException ToString Source
        System.SystemException: .ctor
        System.ApplicationException: .ctor
        System.ArgumentException: * -HResult -Data -TargetSite -StackTrace
        System.ArgumentNullException: * -HResult -Data -TargetSite -StackTrace
        System.ArgumentOutOfRangeException: * -HResult -Data -TargetSite -StackTrace
        System.InvalidOperationException: .ctor Message
        System.NotSupportedException: .ctor Message
        System.NotImplementedException: .ctor Message
        System.FormatException: .ctor Message
        System.OverflowException: .ctor Message
        System.IndexOutOfRangeException: .ctor Message
        System.DivideByZeroException: .ctor Message
        System.ArithmeticException: .ctor Message
        System.InvalidCastException: .ctor Message
        System.NullReferenceException: .ctor Message
        System.TimeoutException: .ctor Message
        System.OperationCanceledException: .ctor Message
        System.ObjectDisposedException: .ctor Message ObjectName ThrowIf
        System.AggregateException: .ctor Message InnerExceptions Flatten
        System.Runtime.CompilerServices.SwitchExpressionException: .ctor Message UnmatchedValue

        ## awaiting host tasks: no continuations, threads, delays or blocking (ContinueWith, Run, Factory, Yield, Delay, Wait, Result, ConfigureAwait)
        System.Threading.Tasks.Task: GetAwaiter IsCompleted IsCompletedSuccessfully IsFaulted IsCanceled Status Exception CompletedTask FromResult FromException FromCanceled
        System.Threading.Tasks.Task`1: GetAwaiter IsCompleted IsCompletedSuccessfully IsFaulted IsCanceled Status Exception
        System.Threading.Tasks.ValueTask: .ctor GetAwaiter IsCompleted IsCompletedSuccessfully IsFaulted IsCanceled CompletedTask FromResult FromException AsTask
        System.Threading.Tasks.ValueTask`1: .ctor GetAwaiter IsCompleted IsCompletedSuccessfully IsFaulted IsCanceled AsTask
        System.Threading.Tasks.TaskStatus
        System.Threading.CancellationToken: None IsCancellationRequested CanBeCanceled ThrowIfCancellationRequested
        System.Runtime.CompilerServices.TaskAwaiter: IsCompleted GetResult
        System.Runtime.CompilerServices.TaskAwaiter`1: IsCompleted GetResult
        System.Runtime.CompilerServices.ValueTaskAwaiter: IsCompleted GetResult
        System.Runtime.CompilerServices.ValueTaskAwaiter`1: IsCompleted GetResult

        ## what the compiler emits for async methods, iterators (their thread check), records (EqualityContract), field-like events (CompareExchange), ranges, initialisers, and the budget check the host injects; not AsyncVoidMethodBuilder: an async void's exception would reach a thread the V-Node does not own
        il-only System.Runtime.CompilerServices.AsyncTaskMethodBuilder
        il-only System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1
        il-only System.Runtime.CompilerServices.AsyncValueTaskMethodBuilder
        il-only System.Runtime.CompilerServices.AsyncValueTaskMethodBuilder`1
        il-only System.Runtime.CompilerServices.IAsyncStateMachine
        il-only System.Runtime.CompilerServices.RuntimeHelpers: GetSubArray EnsureSufficientExecutionStack InitializeArray CreateSpan
        il-only own-signatures System.RuntimeFieldHandle: -*
        il-only own-signatures System.Type: GetTypeFromHandle op_Equality op_Inequality
        il-only own-signatures System.RuntimeTypeHandle: -*
        il-only System.Threading.Interlocked: CompareExchange
        il-only System.Environment: CurrentManagedThreadId
        il-only NicScript.Host.Scripting.ScriptBudget: Check CheckEntry Statement
        il-only System.Runtime.CompilerServices.InlineArrayAttribute: .ctor
        il-only System.Runtime.CompilerServices.InlineArray2`1: -*
        il-only System.Runtime.CompilerServices.InlineArray3`1: -*
        il-only System.Runtime.CompilerServices.InlineArray4`1: -*
        il-only System.Runtime.CompilerServices.InlineArray5`1: -*
        il-only System.Runtime.CompilerServices.InlineArray6`1: -*
        il-only System.Runtime.CompilerServices.InlineArray7`1: -*
        il-only System.Runtime.CompilerServices.InlineArray8`1: -*
        il-only System.Runtime.CompilerServices.InlineArray9`1: -*
        il-only System.Runtime.CompilerServices.InlineArray10`1: -*
        il-only System.Runtime.CompilerServices.InlineArray11`1: -*
        il-only System.Runtime.CompilerServices.InlineArray12`1: -*
        il-only System.Runtime.CompilerServices.InlineArray13`1: -*
        il-only System.Runtime.CompilerServices.InlineArray14`1: -*
        il-only System.Runtime.CompilerServices.InlineArray15`1: -*
        il-only System.Runtime.CompilerServices.InlineArray16`1: -*

        ## inside the compiler's InlineArray helpers only (params spans, collection expressions): each call passes a constant length or index inside the buffer
        helper-only System.Runtime.CompilerServices.Unsafe: As AsRef Add
        helper-only System.Runtime.InteropServices.MemoryMarshal: CreateSpan CreateReadOnlySpan

        ## attributes the compiler emits or a script may put on its own declarations (metadata only)
        System.Attribute: .ctor
        System.AttributeUsageAttribute: .ctor
        System.AttributeTargets
        System.FlagsAttribute: .ctor
        System.ObsoleteAttribute: .ctor
        System.ParamArrayAttribute: .ctor
        System.Reflection.DefaultMemberAttribute: .ctor
        System.Diagnostics.DebuggableAttribute: .ctor
        System.Diagnostics.DebuggableAttribute+DebuggingModes
        System.Diagnostics.DebuggerHiddenAttribute: .ctor
        System.Diagnostics.DebuggerStepThroughAttribute: .ctor
        System.Diagnostics.DebuggerBrowsableAttribute: .ctor
        System.Diagnostics.DebuggerBrowsableState
        System.Diagnostics.DebuggerDisplayAttribute: .ctor
        System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute: .ctor
        System.Diagnostics.CodeAnalysis.NotNullWhenAttribute: .ctor
        System.Diagnostics.CodeAnalysis.MaybeNullWhenAttribute: .ctor
        System.Diagnostics.CodeAnalysis.NotNullAttribute: .ctor
        System.Diagnostics.CodeAnalysis.MaybeNullAttribute: .ctor
        System.Diagnostics.CodeAnalysis.AllowNullAttribute: .ctor
        System.Diagnostics.CodeAnalysis.DisallowNullAttribute: .ctor
        System.Diagnostics.CodeAnalysis.UnscopedRefAttribute: .ctor
        System.Runtime.CompilerServices.CompilerGeneratedAttribute: .ctor
        System.Runtime.CompilerServices.CompilationRelaxationsAttribute: .ctor
        System.Runtime.CompilerServices.RuntimeCompatibilityAttribute: .ctor
        System.Runtime.CompilerServices.AsyncStateMachineAttribute: .ctor
        System.Runtime.CompilerServices.IteratorStateMachineAttribute: .ctor
        System.Runtime.CompilerServices.ExtensionAttribute: .ctor
        System.Runtime.CompilerServices.TupleElementNamesAttribute: .ctor
        System.Runtime.CompilerServices.IsReadOnlyAttribute: .ctor
        System.Runtime.CompilerServices.IsByRefLikeAttribute: .ctor
        System.Runtime.CompilerServices.IsUnmanagedAttribute: .ctor
        System.Runtime.CompilerServices.IsExternalInit
        System.Runtime.CompilerServices.IsVolatile
        System.Runtime.CompilerServices.RefSafetyRulesAttribute: .ctor
        System.Runtime.CompilerServices.ScopedRefAttribute: .ctor
        System.Runtime.CompilerServices.RequiresLocationAttribute: .ctor
        System.Runtime.CompilerServices.ParamCollectionAttribute: .ctor
        System.Runtime.CompilerServices.RequiredMemberAttribute: .ctor
        System.Runtime.CompilerServices.CompilerFeatureRequiredAttribute: .ctor
        System.Runtime.CompilerServices.DecimalConstantAttribute: .ctor
        System.Runtime.CompilerServices.NullableAttribute: .ctor
        System.Runtime.CompilerServices.NullableContextAttribute: .ctor
        System.Runtime.CompilerServices.InterpolatedStringHandlerAttribute: .ctor
        System.Runtime.CompilerServices.InterpolatedStringHandlerArgumentAttribute: .ctor
        System.Runtime.CompilerServices.CallerMemberNameAttribute: .ctor
        System.Runtime.CompilerServices.CallerLineNumberAttribute: .ctor
        System.Runtime.CompilerServices.CallerFilePathAttribute: .ctor
        System.Runtime.CompilerServices.CallerArgumentExpressionAttribute: .ctor
        System.Runtime.CompilerServices.PreserveBaseOverridesAttribute: .ctor
        System.Runtime.InteropServices.InAttribute

        ## the NicScript object model: only what is marked for scripts (and what every object has)
        NicScript.*: [ScriptApi] ToString Equals GetHashCode

        ## the DPU API's generated messages and their protobuf runtime: plain data
        NicScript.Dpu.V1.*: * -Descriptor -Parser -MergeFrom -WriteTo
        Google.Protobuf.ByteString: CopyFrom CopyFromUtf8 Empty Length IsEmpty ToByteArray ToStringUtf8 ToBase64 FromBase64 Span Memory Equals GetHashCode ToString op_Equality op_Inequality
        Google.Protobuf.Collections.RepeatedField`1: * -WriteTo -AddEntriesFrom -CalculateSize
        Google.Protobuf.Collections.MapField`2: * -WriteTo -AddEntriesFrom -CalculateSize
        Google.Protobuf.IMessage`1: Equals GetHashCode ToString
        Google.Protobuf.IDeepCloneable`1: Clone
        """;
}
