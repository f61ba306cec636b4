using ControlPlane.IntegrationTests.Backups;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;

namespace ControlPlane.IntegrationTests.Upgrades;

/// <summary>
/// A one-tier fleet (<c>oltp</c>, PostgreSQL 15) run by a child silo, so a test can SIGKILL it, with the PostgreSQL 17
/// server binaries of tests/setup/postgres-17.sh configured as an upgrade target, some application data and one
/// verified backup of it to rehearse on.
/// </summary>
public sealed class UpgradeFleetFixture : IAsyncLifetime
{
    public const string TierName = "oltp";

    /// <summary>Where tests/setup/postgres-17.sh unpacks the npm package's initdb, pg_ctl and postgres.</summary>
    public static readonly string Pg17 = Environment.GetEnvironmentVariable("CONTROLPLANE_PG17_DIR") is { Length: > 0 } dir
        ? Path.Combine(dir, "bin")
        : "/var/cache/controlplane/postgresql/17/bin";

    private readonly OneTierSilos _silos = new("cp-upgrades-", TierName, new Dictionary<string, string>
    {
        ["ControlPlane__Upgrades__Installations__17"] = Pg17,
        ["ControlPlane__Upgrades__CatchUpWrites"] = "300",
    });

    public SiloChild Silo { get; private set; } = null!;
    public UpgradeService.UpgradeServiceClient Upgrades { get; private set; } = null!;
    public TierControl Tier { get; private set; } = null!;
    public BackupControl Backups { get; private set; } = null!;
    public string ScratchRoot => Path.Combine(_silos.DataDirectory, "upgrades");
    public string SuperuserPasswordFile => _silos.Fleet.SuperuserPasswordFile(TierName);

    /// <summary>Rows the fixture wrote, per table, before the backup.</summary>
    public IReadOnlyDictionary<string, long> Rows { get; } = new Dictionary<string, long> { ["public.upgrade_orders"] = 2000, ["public.upgrade_events"] = 700 };

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(Pg17, "postgres")))
            throw new InvalidOperationException($"PostgreSQL 17 binaries are not in {Pg17}: run tests/setup/postgres-17.sh (tests/run.sh does).");
        await LaunchAsync();
        await Tier.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        await Backups.WaitForArchiveAsync(TimeSpan.FromMinutes(1));
        var tier = await Tier.GetAsync();
        await using (var connection = await (await Tier.InstanceAsync(tier.Primary)).OpenAsync(10, 60, CancellationToken.None))
        {
            // A table with a sequence (carried over at cutover), a table without a primary key (logical replication
            // copies it; only updates and deletes would need a replica identity), a view for the smoke queries.
            await using var command = new Npgsql.NpgsqlCommand("""
                CREATE TABLE upgrade_orders (id bigserial PRIMARY KEY, tenant text NOT NULL, amount numeric(12,2) NOT NULL, placed timestamptz NOT NULL DEFAULT now());
                INSERT INTO upgrade_orders (tenant, amount) SELECT 'tenant-' || (g % 7), g * 1.25 FROM generate_series(1, 2000) g;
                CREATE TABLE upgrade_events (at timestamptz NOT NULL DEFAULT now(), kind text NOT NULL, payload jsonb);
                INSERT INTO upgrade_events (kind, payload) SELECT 'k' || (g % 3), jsonb_build_object('n', g) FROM generate_series(1, 700) g;
                CREATE VIEW upgrade_totals AS SELECT tenant, sum(amount) AS total FROM upgrade_orders GROUP BY tenant;
                """, connection);
            await command.ExecuteNonQueryAsync();
        }
        var backup = await Backups.TakeAsync();
        if (!backup.Verified) throw new InvalidOperationException($"backup {backup.Id} was not verified; rehearsals need a verified backup.");
    }

    /// <summary>
    /// Starts a (new) child silo on the fixture's data directory, points the clients at it and waits until it serves.
    /// A start that fails (on a loaded machine a restarted silo can time out reaching the catalog) is retried twice.
    /// </summary>
    public async Task LaunchAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            Silo = _silos.Launch();
            var invoker = await _silos.ConnectAsync(Silo);
            var password = _silos.Fleet.SuperuserPasswordFile(TierName);
            Tier = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName, password);
            Backups = new BackupControl(new BackupService.BackupServiceClient(invoker), TierName, password);
            Upgrades = new UpgradeService.UpgradeServiceClient(invoker);
            try
            {
                // Ready when the gateway answers for the tier; no upgrade call, so that the crash test sees the
                // silo's own keeper (not a test's request) activate the rehearsal grain that cleans up.
                await Silo.WaitUntilAsync(async () =>
                {
                    await Tier.GetAsync();
                    return true;
                }, TimeSpan.FromMinutes(3));
                return;
            }
            catch (InvalidOperationException) when (attempt < 3 && Silo.HasExited)
            {
                await _silos.StopAsync(Silo);
            }
        }
    }

    /// <summary>SIGKILLs the silo (the fleet's instances, started by pg_ctl, run on) and starts another.</summary>
    public async Task CrashAndRelaunchAsync()
    {
        Silo.Kill();
        await _silos.StopAsync(Silo);
        await LaunchAsync();
    }

    /// <summary>Waits until the tier has been probed (its version is known) and no rehearsal runs.</summary>
    public async Task ReadyAsync()
    {
        await Silo.WaitUntilAsync(async () =>
        {
            try
            {
                var targets = await Upgrades.ListUpgradeTargetsAsync(new ListUpgradeTargetsRequest { Tier = TierName });
                var list = await Upgrades.ListUpgradeRehearsalsAsync(new ListUpgradeRehearsalsRequest { Tier = TierName });
                return targets.SourceVersion > 0 && list.Rehearsals.All(r => r.State != UpgradeRehearsalState.Running);
            }
            catch (RpcException)
            {
                return false;
            }
        }, TimeSpan.FromMinutes(3));
    }

    /// <summary>Waits until the rehearsal has finished and its scratch instances are gone.</summary>
    public async Task<UpgradeRehearsal> WaitAsync(string id, TimeSpan timeout)
    {
        UpgradeRehearsal? last = null;
        await Silo.WaitUntilAsync(async () =>
        {
            last = await Upgrades.GetUpgradeRehearsalAsync(new GetUpgradeRehearsalRequest { Tier = TierName, RehearsalId = id });
            return last.State != UpgradeRehearsalState.Running && last.CleanedUp;
        }, timeout);
        return last!;
    }

    public Task DisposeAsync() => _silos.DisposeAsync().AsTask();
}
