using System.Diagnostics;
using System.Globalization;
using System.Text;
using ControlPlane.Bench.Common;
using ControlPlane.Bench.Fleet;
using ControlPlane.Client;
using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.Bench.Catalog;

/// <summary>One restore: catalog-restore's own time, then a new silo's launch → its first command accepted.</summary>
public sealed record CatalogRestoreTrial(int Trial, double RestoreSeconds, double SiloToCommandSeconds, bool LaterTokenKept);

public sealed record CatalogLossResult(MachineInfo Machine, string LoadBefore, string LoadAfter, IReadOnlyList<double> LossMs, double? LossMedianMs,
    IReadOnlyList<CatalogRestoreTrial> Restores)
{
    public string Render()
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"catalog SIGKILL → first mutating command accepted (ms): {string.Join(", ", LossMs.Select(m => m.ToString("F0", CultureInfo.InvariantCulture)))}; median {LossMedianMs:F0}");
        foreach (var r in Restores)
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"restore #{r.Trial}: catalog-restore {r.RestoreSeconds:F1} s, silo launch → first command {r.SiloToCommandSeconds:F1} s, token made after the backup kept: {r.LaterTokenKept}");
        }
        b.Append(CultureInfo.InvariantCulture, $"load average before {LoadBefore}, after {LoadAfter}");
        return b.ToString();
    }
}

/// <summary>
/// A silo (child process, one tier <c>oltp</c> with one standby). Loss trials: SIGKILL of the embedded catalog's
/// postmaster, then, from outside, CreateToken (a command: it writes the catalog) every 50 ms until one is accepted.
/// Restore trials: a catalog backup, a token made after it, the silo stopped, the catalog directory removed,
/// <c>catalog-restore --target latest</c> timed, a new silo launched and timed to its first accepted command.
/// </summary>
public static class CatalogLossRun
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);
    private static readonly Dictionary<string, string> Environment = new()
    {
        ["ControlPlane__LocalTiers__0"] = "oltp",
        ["ControlPlane__StandbysPerTier"] = "1",
        ["ControlPlane__Backups__DefaultPolicy__Schedule"] = "",
        ["ControlPlane__Backups__DefaultPolicy__DrillSchedule"] = "",
        ["ControlPlane__Catalog__Backups__Schedule"] = "",
    };

    public static async Task<CatalogLossResult> RunAsync(CatalogLossSettings settings, TextWriter log, CancellationToken ct)
    {
        var loadBefore = MachineInfo.LoadAverage();
        Directory.CreateDirectory(settings.DataDirectory);
        var silo = SiloProcess.Start(settings.Silo, settings.DataDirectory, settings.LogFile(1), Environment);
        try
        {
            var ready = await FleetReadiness.WaitAsync(silo, 1, 2, TimeSpan.FromMinutes(5), ct);
            if (ready.Healthy is null) throw new InvalidOperationException($"the fleet never became healthy: {ready.LastState}; see {silo.LogFile}");
            var client = Client(silo);
            await FirstCommandAsync(client, "bench-warm", ct);
            var loss = new List<double>();
            for (var i = 1; i <= settings.Trials; i++)
            {
                var pid = int.Parse(File.ReadLines(PidFile(settings)).First(), CultureInfo.InvariantCulture);
                var clock = Stopwatch.StartNew();
                UnixSignals.Send(pid, 9);
                await FirstCommandAsync(client, $"bench-loss-{i}", ct);
                loss.Add(Math.Round(clock.Elapsed.TotalMilliseconds, 1));
                await log.WriteLineAsync($"catalog loss #{i}: postmaster {pid} SIGKILLed, first command accepted after {loss[^1]:F0} ms");
                await Task.Delay(TimeSpan.FromSeconds(2), ct);
            }
            var restores = new List<CatalogRestoreTrial>();
            for (var i = 1; i <= settings.Restores; i++)
            {
                var (trial, next) = await RestoreTrialAsync(settings, silo, client, i, log, ct);
                restores.Add(trial);
                client.Dispose();
                silo = next;
                client = Client(silo);
            }
            client.Dispose();
            var sorted = loss.Order().ToList();
            return new CatalogLossResult(MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(), loss, sorted.Count > 0 ? sorted[sorted.Count / 2] : null, restores);
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }

    private static async Task<(CatalogRestoreTrial Trial, SiloProcess Next)> RestoreTrialAsync(
        CatalogLossSettings settings, SiloProcess silo, ControlPlaneClient client, int trial, TextWriter log, CancellationToken ct)
    {
        var started = await client.Catalog.BackupCatalogAsync(new BackupCatalogRequest(), deadline: DateTime.UtcNow + CallTimeout, cancellationToken: ct);
        CatalogBackup? done = null;
        while (done is null || done.State == "running")
        {
            await Task.Delay(250, ct);
            done = (await client.Catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest(), cancellationToken: ct)).Backups.LastOrDefault(b => b.Id == started.Id);
        }
        if (done.State != "succeeded") throw new InvalidOperationException($"catalog backup {done.Id} {done.State}: {done.Error}");
        var later = await client.Security.CreateTokenAsync(new CreateTokenRequest { Name = $"bench-after-backup-{trial}", Role = Role.Viewer }, cancellationToken: ct);
        // pg_receivewal flushes within milliseconds (bench 5.2); a second is ample before the loss.
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        await silo.StopAsync(TimeSpan.FromSeconds(60));
        await silo.DisposeAsync();
        Directory.Delete(Path.Combine(settings.DataDirectory, "catalog"), recursive: true);

        var clock = Stopwatch.StartNew();
        var restore = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { settings.Silo.FullName, "catalog-restore", "--data-dir", settings.DataDirectory }) restore.ArgumentList.Add(a);
        using (var process = Process.Start(restore) ?? throw new InvalidOperationException("could not start catalog-restore"))
        {
            var said = process.StandardOutput.ReadToEndAsync(ct);
            var error = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0) throw new InvalidOperationException($"catalog-restore exited with {process.ExitCode}: {await error}{await said}");
        }
        var restoreSeconds = clock.Elapsed.TotalSeconds;
        var next = SiloProcess.Start(settings.Silo, settings.DataDirectory, settings.LogFile(trial + 1), Environment);
        using var client2 = Client(next);
        await FirstCommandAsync(client2, $"bench-restored-{trial}", ct, TimeSpan.FromMinutes(5));
        var toCommand = next.Elapsed.TotalSeconds;
        using var viewer = new ControlPlaneClient(next.GrpcEndpoint, new ControlPlaneClientOptions { Token = later.Token, ConnectTimeout = TimeSpan.FromSeconds(1) });
        var kept = (await viewer.Security.WhoAmIAsync(new WhoAmIRequest(), cancellationToken: ct)).TokenId == later.Info.Id;
        await log.WriteLineAsync($"restore #{trial}: catalog-restore {restoreSeconds:F1} s, silo launch → first command {toCommand:F1} s, later token kept {kept}");
        return (new CatalogRestoreTrial(trial, Math.Round(restoreSeconds, 2), Math.Round(toCommand, 2), kept), next);
    }

    private static string PidFile(CatalogLossSettings settings) => Path.Combine(settings.DataDirectory, "catalog", "data", "postmaster.pid");

    private static ControlPlaneClient Client(SiloProcess silo)
    {
        var token = File.ReadAllText(Path.Combine(silo.DataDirectory, "admin.token")).Trim();
        return new ControlPlaneClient(silo.GrpcEndpoint, new ControlPlaneClientOptions { Token = token, ConnectTimeout = TimeSpan.FromSeconds(1) });
    }

    /// <summary>CreateToken every 50 ms until one is accepted (a refused one creates nothing).</summary>
    private static async Task FirstCommandAsync(ControlPlaneClient client, string name, CancellationToken ct, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.Security.CreateTokenAsync(new CreateTokenRequest { Name = $"{name}-{attempt}", Role = Role.Viewer },
                    deadline: DateTime.UtcNow + CallTimeout, cancellationToken: ct);
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
            }
        }
    }
}
