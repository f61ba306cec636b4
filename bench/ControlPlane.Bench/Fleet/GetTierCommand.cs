using System.CommandLine;
using ControlPlane.Bench.Common;
using ControlPlane.Client;
using ControlPlane.Client.Security;
using Grpc.Core;

namespace ControlPlane.Bench.Fleet;

/// <summary><c>gettier</c>: closed-loop GetTier load against a running silo.</summary>
public static class GetTierCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var gateway = new GatewayOptions("");
        var tier = new Option<string>("--tier") { Description = "Tier to read", DefaultValueFactory = _ => "oltp" };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent callers (closed loop)", DefaultValueFactory = _ => 64 };
        var channels = new Option<int>("--channels") { Description = "HTTP/2 channels the callers are spread over", DefaultValueFactory = _ => 1 };
        var duration = DurationArgument.Option("--duration", TimeSpan.FromSeconds(20), "Measured time");
        var warmup = DurationArgument.Option("--warmup", TimeSpan.FromSeconds(5), "Load before measuring (JIT, connections, grain activation)");
        var timeout = DurationArgument.Option("--call-timeout", TimeSpan.FromSeconds(5), "Deadline of one call");
        var rpc = new Option<string>("--rpc") { Description = "RPC under load: GetTier (one tier) or ListTiers (every tier)", DefaultValueFactory = _ => GetTierSettings.GetTier };
        rpc.AcceptOnlyFromAmong(GetTierSettings.GetTier, GetTierSettings.ListTiers);
        IntOption.Range(concurrency, 1, 4096);
        IntOption.Range(channels, 1, 64);

        var command = new Command("gettier", "Concurrent GetTier callers for a duration: latency percentiles, throughput, errors.")
        {
            tier, concurrency, channels, duration, warmup, timeout, rpc,
        };
        gateway.AddTo(command);
        command.SetAction(async (parsed, ct) =>
        {
            if (await gateway.ResolveAsync(parsed, stderr) is not { } resolved) return ExitCodes.Usage;
            var (uri, token) = resolved;
            var settings = new GetTierSettings(uri, parsed.GetValue(gateway.Environment) ?? "", parsed.GetValue(tier) ?? "oltp",
                parsed.GetValue(concurrency), parsed.GetValue(channels), parsed.GetValue(duration), parsed.GetValue(warmup), parsed.GetValue(timeout), token,
                parsed.GetValue(rpc) ?? GetTierSettings.GetTier);
            if (settings.Duration <= TimeSpan.Zero)
            {
                await stderr.WriteLineAsync("error: --duration must be greater than zero.");
                return ExitCodes.Usage;
            }
            try
            {
                var result = await GetTierLoad.RunAsync(settings, ct);
                if (!parsed.GetValue(gateway.Json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(gateway.Json), parsed.GetValue(gateway.Output), stdout, ct);
                return result.Errors == 0 ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (Exception ex) when (ct.IsCancellationRequested && ex is OperationCanceledException or RpcException)
            {
                await stderr.WriteLineAsync("interrupted.");
                return ExitCodes.Interrupted;
            }
            catch (RpcException ex)
            {
                await stderr.WriteLineAsync($"error: {settings.Rpc} {settings.Tier} at {ControlPlaneEndpoint.Display(uri)} failed: {ex.StatusCode}: {ex.Status.Detail}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
