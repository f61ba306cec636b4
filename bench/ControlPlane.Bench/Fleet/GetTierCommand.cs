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
        var endpoint = new Option<string?>("--endpoint") { Description = $"gRPC endpoint (default ${ControlPlaneEndpoint.EnvironmentVariable}, else {ControlPlaneEndpoint.Default})", HelpName = "URL" };
        var environment = new Option<string>("--environment") { Description = "Environment; empty means the silo's default", DefaultValueFactory = _ => "" };
        var tier = new Option<string>("--tier") { Description = "Tier to read", DefaultValueFactory = _ => "oltp" };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent callers (closed loop)", DefaultValueFactory = _ => 64 };
        var channels = new Option<int>("--channels") { Description = "HTTP/2 channels the callers are spread over", DefaultValueFactory = _ => 1 };
        var duration = DurationArgument.Option("--duration", TimeSpan.FromSeconds(20), "Measured time");
        var warmup = DurationArgument.Option("--warmup", TimeSpan.FromSeconds(5), "Load before measuring (JIT, connections, grain activation)");
        var timeout = DurationArgument.Option("--call-timeout", TimeSpan.FromSeconds(5), "Deadline of one call");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = $"File with the bearer token (default ${ControlPlaneToken.EnvironmentVariable}, else {ControlPlaneToken.DefaultFile})",
            HelpName = "FILE",
        };
        var rpc = new Option<string>("--rpc") { Description = "RPC under load: GetTier (one tier) or ListTiers (every tier)", DefaultValueFactory = _ => GetTierSettings.GetTier };
        rpc.AcceptOnlyFromAmong(GetTierSettings.GetTier, GetTierSettings.ListTiers);
        IntOption.Range(concurrency, 1, 4096);
        IntOption.Range(channels, 1, 64);

        var command = new Command("gettier", "Concurrent GetTier callers for a duration: latency percentiles, throughput, errors.")
        {
            endpoint, environment, tier, concurrency, channels, duration, warmup, timeout, json, output, tokenFile, rpc,
        };
        command.SetAction(async (parsed, ct) =>
        {
            Uri uri;
            try
            {
                uri = ControlPlaneEndpoint.Resolve(parsed.GetValue(endpoint));
            }
            catch (InvalidEndpointException ex)
            {
                await stderr.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
            string? token;
            try
            {
                token = ControlPlaneToken.Resolve(null, parsed.GetValue(tokenFile))?.Token;
            }
            catch (InvalidTokenSourceException ex)
            {
                await stderr.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
            var settings = new GetTierSettings(uri, parsed.GetValue(environment) ?? "", parsed.GetValue(tier) ?? "oltp",
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
                if (!parsed.GetValue(json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(json), parsed.GetValue(output), stdout, ct);
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
