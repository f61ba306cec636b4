using System.CommandLine;
using ControlPlane.Bench.Common;
using ControlPlane.Bench.Fleet;

namespace ControlPlane.Bench.Changes;

/// <summary>
/// <c>rollout-service</c>: the whole change path (gRPC, ChangeGrain, pool lease, applier) over N tenant schemas of a
/// silo's one-tier fleet, a no-op version and a small migration, beside a Flyway-style loop over the same schemas.
/// </summary>
public static class ChangeServiceCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var tenants = new Option<int>("--tenants") { Description = "Tenants registered with a schema on the tier (each a rollout target)", DefaultValueFactory = _ => 1000 };
        var concurrency = new Option<int>("--concurrency") { Description = "The rollout's concurrency (targets at once, within the pool's grant)", DefaultValueFactory = _ => 8 };
        var workDir = new Option<DirectoryInfo?>("--work-dir") { Description = "Where the silo's data directory and log go (default: the system temp directory)", HelpName = "DIR" };
        var keep = new Option<bool>("--keep") { Description = "Keep the data directory and the silo log" };
        var silo = new Option<FileInfo?>("--silo") { Description = $"Silo to launch: ControlPlane.Silo.dll or its apphost (default: {SiloBinary.ProjectPath} built in Release)", HelpName = "PATH" };
        var noBuild = new Option<bool>("--no-build") { Description = $"Do not run 'dotnet build -c Release {SiloBinary.ProjectPath}' first" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };
        IntOption.Range(tenants, 1, 5000);
        IntOption.Range(concurrency, 1, 64);

        var command = new Command("rollout-service",
            "A no-op version and a small migration rolled out through ChangeService to N tenant schemas, beside a Flyway-style loop over the same schemas")
        {
            tenants, concurrency, workDir, keep, silo, noBuild, json, output,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var (siloFile, refused) = await SiloBinary.PrepareAsync(parsed.GetValue(silo), parsed.GetValue(noBuild), stderr, ct);
            if (siloFile is null) return refused;
            var root = Path.Combine(parsed.GetValue(workDir)?.FullName ?? Path.GetTempPath(), "cp-bench-changes-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                var result = await ChangeServiceRun.RunAsync(siloFile, root, parsed.GetValue(tenants), parsed.GetValue(concurrency), parsed.GetValue(keep), stderr, ct);
                if (!parsed.GetValue(json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(json), parsed.GetValue(output), stdout, CancellationToken.None);
                return result.Sides.All(s => s.Completed) ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("interrupted; the silo was stopped.");
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }
}
