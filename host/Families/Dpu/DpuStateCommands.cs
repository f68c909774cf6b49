using System.CommandLine;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;
using NicScript.Host.Families.Dpu.Declarative;

using NicScript.Host.Cli;

namespace NicScript.Host.Families.Dpu;

/// <summary><c>nicscript plan FILE</c> and <c>nicscript apply FILE</c>: a DPU agent's desired state in one YAML file
/// (reference/dpu.md §9), compared with the agent's and, for apply, brought about rpc by rpc in dependency order.</summary>
public static class DpuStateCommands
{
    public const string DefaultAgent = "127.0.0.1:50051";

    public static Command Plan(CliContext cli) => Build(cli, "plan", """
        Compare a DPU state file with what the agent holds and print the changes (+ add, ~ change, -/+ replace, - destroy)
        and a summary. Nothing is changed. Only the fields the file writes are compared; a section the file leaves out is
        not managed.

        Examples:
          nicscript plan manifests/dpu.yml
          nicscript plan manifests/dpu.yml --target 127.0.0.1:50052 --prune
        """, apply: false);

    public static Command Apply(CliContext cli) => Build(cli, "apply", """
        Bring the agent to the state the file describes: plan, then one rpc per step in dependency order (rules that go
        first, then what they used, creates before the rules that name them, the bond before the MTUs). It stops at the
        first step the agent refuses, says which steps ran, which failed and which did not, and exits 1; running it again
        converges. A file the agent already matches sends no changing rpc ("No changes.").

        Examples:
          nicscript apply manifests/dpu.yml
          nicscript apply manifests/dpu.yml --prune --allow-replace
          nicscript plan manifests/dpu.yml -o plan.json && nicscript apply plan.json   # the reviewed plan; refused (exit 1) if the agent changed since
        """, apply: true);

    private static Command Build(CliContext cli, string name, string description, bool apply)
    {
        var file = new Argument<string>("file") { Description = apply ? "The DPU state file (dpu.yml), or a plan saved by plan -o." : "The DPU state file (dpu.yml)." };
        var target = new Option<string?>("--target", "--agent") { Description = $"The agent's IP:PORT (default: the file's agent, else {DefaultAgent})." };
        var prune = new Option<bool>("--prune") { Description = "Also destroy objects of the managed sections that the file does not list." };
        var allowReplace = new Option<bool>("--allow-replace") { Description = "Allow replacing a vdisk (its data is lost) when pvf_id, max_queue, queue_depth or msix change." };
        var json = new Option<bool>("--json") { Description = "Print the plan as JSON steps {op, kind, key, text, rpcs} (plan only)." };
        var detailed = new Option<bool>("--detailed-exitcode") { Description = "Exit 2 when there are changes, 0 when none (plan only)." };
        var save = new Option<string?>("--out", "-o") { Description = "Save the plan (with the state it was computed from) for a later `apply PLAN.json` (plan only)." };
        var cmd = new Command(name, description) { file, target, prune, allowReplace };
        if (!apply)
        {
            cmd.Options.Add(json);
            cmd.Options.Add(detailed);
            cmd.Options.Add(save);
        }
        cmd.SetAction(async (p, cancel) => await Run(cli, apply, p.GetValue(file)!, p.GetValue(target), p.GetValue(prune), p.GetValue(allowReplace),
            !apply && p.GetValue(json), !apply && p.GetValue(detailed), apply ? null : p.GetValue(save), cancel).ConfigureAwait(false));
        return cmd;
    }

    /// <summary>A plan saved by <c>plan -o</c>: its state file's text, its options, and the agent's state it was computed from.</summary>
    private sealed record SavedPlan(string File, string Agent, bool Prune, bool AllowReplace, string StateFile, string Before, string Plan);

    private static SavedPlan? ReadSaved(string file)
    {
        if (!File.Exists(file)) return null; // the state file's reader says "file not found" the manifests' way
        string text = InputFile.ReadText(file, InputFile.MaxPlanBytes, "saved plans"); // a regular file within the limit, or one line
        if (!text.TrimStart().StartsWith('{')) return null;
        try
        {
            JsonNode? n = JsonNode.Parse(text);
            if (n?["kind"]?.GetValue<string>() != "dpu_plan" || n["version"]?.GetValue<int>() != 1) throw new UserErrorException($"{file}: not a plan saved by nicscript plan -o (kind dpu_plan, version 1)");
            return new SavedPlan(n["file"]!.GetValue<string>(), n["agent"]!.GetValue<string>(), n["prune"]!.GetValue<bool>(), n["allow_replace"]!.GetValue<bool>(),
                n["state_file"]!.GetValue<string>(), n["before"]!.GetValue<string>(), n["plan"]!.GetValue<string>());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new UserErrorException($"{file}: not a readable saved plan: {e.Message}");
        }
    }

    private static async Task<int> Run(CliContext cli, bool apply, string file, string? target, bool prune, bool allowReplace, bool json, bool detailed, string? save, CancellationToken cancel)
    {
        SavedPlan? saved = apply ? ReadSaved(file) : null;
        DesiredState desired = saved is null ? DpuStateFile.Load(file) : DpuStateFile.Parse(saved.StateFile, saved.File); // every problem with file:line:col, before any rpc
        if (saved is not null) (prune, allowReplace) = (saved.Prune, saved.AllowReplace);
        string address = target ?? saved?.Agent ?? desired.Agent ?? DefaultAgent;
        System.Net.IPEndPoint agent = ListenAddress.Parse(target is not null ? "--target" : "agent", address, anyPort: false);
        if (save is not null && (save.Length == 0 || Directory.Exists(save))) throw new UserErrorException($"-o '{save}': expected a file, not {(save.Length == 0 ? "an empty name" : "a folder")}");
        using GrpcChannel channel = GrpcChannel.ForAddress($"http://{agent}");
        var client = new DpuClient(channel);
        try
        {
            CurrentState current = await DpuStateReader.ReadAsync(client).WaitAsync(cancel).ConfigureAwait(false);
            List<PlanChange> plan = DpuPlanDiffer.Diff(desired, current, prune, allowReplace);
            if (saved is not null && (current.Fingerprint() != saved.Before || DpuPlanRenderer.Render(plan) != saved.Plan))
                throw new UserErrorException($"{file}: the agent's state changed since the plan was made; run plan again");
            if (save is not null)
            {
                var doc = new JsonObject
                {
                    ["kind"] = "dpu_plan", ["version"] = 1, ["file"] = Path.GetFullPath(file), ["agent"] = address, ["prune"] = prune, ["allow_replace"] = allowReplace,
                    ["state_file"] = Manifests.ManifestReader.ReadText(file), ["before"] = current.Fingerprint(), ["plan"] = DpuPlanRenderer.Render(plan),
                };
                try { File.WriteAllText(save, doc.ToJsonString(CliJson.Indented)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserErrorException($"-o {save}: {e.Message}"); }
            }
            if (json) cli.OutputText.WriteLine(CliJson.Text(DpuPlanRenderer.Json(plan)));
            else cli.OutputText.Write(DpuPlanRenderer.Render(plan));
            if (!apply) return detailed && plan.Count > 0 ? 2 : 0;
            if (plan.Count == 0) return 0;

            List<PlanStep> ordered = [.. plan.SelectMany(c => c.Steps).OrderBy(s => s.Phase).ThenBy(s => s.Order)];
            var context = new ApplyContext(current.Ports.ToDictionary(p => p.Uuid, p => p.Vport));
            for (int i = 0; i < ordered.Count; i++)
            {
                PlanStep step = ordered[i];
                var (status, detail) = await step.Run(client, context).WaitAsync(cancel).ConfigureAwait(false);
                if (status == 0)
                {
                    cli.OutputText.WriteLine($"  ok  {step.Rpc} {step.What}");
                    continue;
                }
                string why = $"{DpuAgent.StatusName((DpuStatus)status)}{(detail.Length > 0 ? ": " + detail : "")}";
                cli.Error.WriteLine($"apply stopped at step {i + 1} of {ordered.Count}: {step.Rpc} {step.What}: {why}");
                cli.Error.WriteLine($"  done ({i}): {List(ordered.Take(i))}");
                cli.Error.WriteLine($"  failed (1): {step.Rpc} {step.What}: {why}");
                cli.Error.WriteLine($"  not run ({ordered.Count - i - 1}): {List(ordered.Skip(i + 1))}");
                return 1;
            }
            cli.OutputText.WriteLine($"Apply complete: {ordered.Count} rpc(s) for {plan.Count} change(s).");
            return 0;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
        {
            throw new UserErrorException($"cannot reach the DPU agent at {address}: {e.Status.Detail}");
        }
    }

    private static string List(IEnumerable<PlanStep> steps)
    {
        string text = string.Join("; ", steps.Select(s => $"{s.Rpc} {s.What}"));
        return text.Length == 0 ? "-" : text;
    }
}
