using System.CommandLine;
using NicScript.Host.Families.Dpu.Agent;
using NicScript.Host.Cli;

namespace NicScript.Host.Families.Dpu;

/// <summary><c>nicscript run --dpu-state DIR --dpu-listen IP:PORT</c>: where the run's DPU agent keeps its state, and whether it
/// is also served on gRPC beside the V-Nodes.</summary>
internal sealed class DpuRunPart : RunPart
{
    private readonly Option<string?> _state = new("--dpu-state") { Description = "The DPU agent's state directory for scripts granted CAP_DPU_ADMIN (default: a throwaway one)." };
    private readonly Option<string?> _listen = new("--dpu-listen") { Description = "Also serve the DPU agent on gRPC at IP:PORT while running (nicscript serve beside the V-Nodes)." };

    public override IReadOnlyList<Option> Options => [_state, _listen];

    public override FamilyRunOptions Bind(ParseResult parse) => new Values(parse.GetValue(_state), parse.GetValue(_listen));

    private sealed class Values(string? state, string? listen) : FamilyRunOptions
    {
        public override void Check()
        {
            if (listen is { } dl) ListenAddress.CheckBindable("--dpu-listen", dl, ListenAddress.Parse("--dpu-listen", dl));
        }

        /// <summary>The agent itself waits for its first use, unless <c>--dpu-listen</c> serves it from the start.</summary>
        public override async Task<IAsyncDisposable> OpenAsync(FamilyRun run)
        {
            var agent = new DpuRunAgent(run.Machine, DpuMachineBlock.Of(run.Spec), state, run.Log);
            if (listen is not { } dl) return agent;
            try
            {
                run.Error.WriteLine($"dpu agent: listening on {await agent.ListenAsync(dl, "--dpu-listen").ConfigureAwait(false)}");
                return agent;
            }
            catch
            {
                await agent.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }
}
