using System.CommandLine;
using ControlPlane.Bench.Common;
using ControlPlane.Client;
using ControlPlane.Client.Security;
using Grpc.Core;

namespace ControlPlane.Bench.Watchers;

/// <summary><c>watchers</c>: many WatchTier streams on one silo, real tier changes, delivery latency and memory.</summary>
public static class WatchersCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var gateway = new GatewayOptions(", an operator's or admin's");
        var tier = new Option<string>("--tier") { Description = "Tier to watch and change (its automatic decisions are paused and resumed; left resumed)", DefaultValueFactory = _ => "oltp" };
        var watchers = new Option<int>("--watchers") { Description = "Concurrent WatchTier streams that read", DefaultValueFactory = _ => 1000 };
        var slow = new Option<int>("--slow") { Description = "Further WatchTier streams that never read (slow consumers)", DefaultValueFactory = _ => 0 };
        var channels = new Option<int>("--channels") { Description = "HTTP/2 channels the reading watchers are spread over", DefaultValueFactory = _ => 10 };
        var changes = new Option<int>("--changes") { Description = "Tier changes to make (pause, resume, ...)", DefaultValueFactory = _ => 20 };
        var interval = DurationArgument.Option("--interval", TimeSpan.FromSeconds(1), "Time between two changes");
        var siloPid = new Option<int?>("--silo-pid") { Description = "Process id of the silo, for its RSS before and after (same machine)", HelpName = "PID" };
        IntOption.Range(watchers, 1, 20_000);
        IntOption.Range(slow, 0, 10_000);
        IntOption.Range(channels, 1, 256);
        IntOption.Range(changes, 1, 10_000);

        var command = new Command("watchers", "Many WatchTier streams on one silo: delivery latency of real tier changes to all, memory per watcher, the effect of watchers that never read.")
        {
            tier, watchers, slow, channels, changes, interval, siloPid,
        };
        gateway.AddTo(command);
        command.SetAction(async (parsed, ct) =>
        {
            if (await gateway.ResolveAsync(parsed, stderr) is not { } resolved) return ExitCodes.Usage;
            var (uri, token) = resolved;
            var settings = new WatchersSettings(uri, parsed.GetValue(gateway.Environment) ?? "", parsed.GetValue(tier) ?? "oltp", parsed.GetValue(watchers),
                parsed.GetValue(slow), parsed.GetValue(channels), parsed.GetValue(changes), parsed.GetValue(interval), token, parsed.GetValue(siloPid));
            var progress = new Progress<string>(line => stderr.WriteLine($"  {line}"));
            try
            {
                var result = await WatchersRun.RunAsync(settings, progress, ct);
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
                await stderr.WriteLineAsync($"error: watching {settings.Tier} at {ControlPlaneEndpoint.Display(uri)} failed: {ex.StatusCode}: {ex.Status.Detail}");
                return ExitCodes.Failed;
            }
            catch (TimeoutException ex)
            {
                await stderr.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
