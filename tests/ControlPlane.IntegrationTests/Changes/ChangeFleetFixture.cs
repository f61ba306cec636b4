using System.Text;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Changes;

/// <summary>
/// One child silo (killable, so the crash test can restart it on the same data directory) with a one-tier fleet
/// (oltp: a primary and a standby) and <see cref="TenantCount"/> tenants placed as schemas on it, plus two operators
/// (alice writes changes, bob approves them). The tier's migration set is cumulative, as in a repository: every test
/// submits <see cref="AppliedFiles"/> plus its own new versions, and keeps them there once completed (or removes them
/// after a rollback), so the tests run in any order against the same histories.
/// </summary>
public sealed class ChangeFleetFixture : IAsyncLifetime
{
    public const string Tier = "oltp";
    public const int TenantCount = 50;
    private readonly OneTierSilos _silos = new("cp-changes-", Tier);
    private long _nextVersion = 1;

    public SiloChild Silo { get; private set; } = null!;
    public ChangeService.ChangeServiceClient Admin { get; private set; } = null!;
    public ChangeService.ChangeServiceClient Alice { get; private set; } = null!;
    public ChangeService.ChangeServiceClient Bob { get; private set; } = null!;
    public PoolService.PoolServiceClient Pools { get; private set; } = null!;
    public TierControl TierControl { get; private set; } = null!;
    private string _aliceToken = "";
    private string _bobToken = "";

    /// <summary>cpctl in process against the current silo as <paramref name="who"/> (alice, bob, or the admin): exit code, stdout, stderr.</summary>
    public async Task<(int Exit, string Output, string Error)> CpctlAsync(string who, params string[] args)
    {
        var token = who switch
        {
            "alice" => _aliceToken,
            "bob" => _bobToken,
            _ => (await System.IO.File.ReadAllTextAsync(Path.Combine(_silos.DataDirectory, "admin.token"))).Trim(),
        };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await ControlPlane.Cli.CpctlApp.RunAsync([.. args, "--endpoint", $"http://127.0.0.1:{Silo.GrpcPort}", "--token", token], stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Every target schema, in rollout order: the tenants' sorted, then the shared schema.</summary>
    public IReadOnlyList<string> Targets { get; } =
        [.. Enumerable.Range(1, TenantCount).Select(i => $"tenant_chg_{i:00}"), "tenant_shared"];

    /// <summary>Files of every version applied and kept so far.</summary>
    public List<MigrationFile> AppliedFiles { get; } = [];

    public long NextVersion() => Interlocked.Increment(ref _nextVersion) - 1;

    public static MigrationFile File(string name, string sql) => new() { Name = name, Content = ByteString.CopyFrom(Encoding.UTF8.GetBytes(sql)) };

    public async Task InitializeAsync()
    {
        Silo = _silos.Launch();
        var admin = await _silos.ConnectAsync(Silo);
        await ConnectAsync(admin);
        await TierControl.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        var security = new SecurityService.SecurityServiceClient(admin);
        _aliceToken = (await security.CreateTokenAsync(new CreateTokenRequest { Name = "alice", Role = Role.Operator })).Token;
        _bobToken = (await security.CreateTokenAsync(new CreateTokenRequest { Name = "bob", Role = Role.Operator })).Token;
        Alice = new ChangeService.ChangeServiceClient(_silos.Connect(Silo, _aliceToken));
        Bob = new ChangeService.ChangeServiceClient(_silos.Connect(Silo, _bobToken));
        var tenants = new TenantService.TenantServiceClient(admin);
        for (var i = 1; i <= TenantCount; i++)
        {
            await tenants.RegisterTenantAsync(new TenantRegisterRequest
            {
                Tenant = $"chg-{i:00}",
                Placements = { new TenantPlacement { Tier = Tier, Kind = PlacementKind.Schema } },
            });
        }
    }

    /// <summary>SIGKILLs the silo and starts the next one on the same data directory.</summary>
    public async Task KillAndRestartAsync()
    {
        Silo.Kill();
        await Silo.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await _silos.StopAsync(Silo);
        Silo = _silos.Launch();
        await ConnectAsync(await _silos.ConnectAsync(Silo));
        Alice = new ChangeService.ChangeServiceClient(_silos.Connect(Silo, _aliceToken));
        Bob = new ChangeService.ChangeServiceClient(_silos.Connect(Silo, _bobToken));
        await TierControl.WaitAsync(_ => true, TimeSpan.FromMinutes(2));
    }

    private Task ConnectAsync(CallInvoker admin)
    {
        Admin = new ChangeService.ChangeServiceClient(admin);
        Pools = new PoolService.PoolServiceClient(admin);
        TierControl = new TierControl(new FleetService.FleetServiceClient(admin), new FailoverService.FailoverServiceClient(admin), Tier,
            _silos.Fleet.SuperuserPasswordFile(Tier));
        return Task.CompletedTask;
    }

    /// <summary>A superuser session on the tier's primary (the test's own eyes).</summary>
    public async Task<NpgsqlConnection> OpenAsync()
    {
        var tier = await TierControl.GetAsync();
        var primary = tier.Replicas.Single(r => r.Name == tier.Primary);
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = primary.Host, Port = primary.Port, Database = "postgres", Username = "postgres",
            Password = SecretFile.Read(_silos.Fleet.SuperuserPasswordFile(Tier)), Pooling = false, Timeout = 10, CommandTimeout = 30,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Submits <see cref="AppliedFiles"/> plus <paramref name="files"/> as alice, approved by bob.</summary>
    public async Task<ChangeInfo> SubmitApprovedAsync(string description, params MigrationFile[] files)
    {
        var submitted = await SubmitAsync(description, files);
        return await Bob.ApproveChangeAsync(new ApproveChangeRequest { ChangeId = submitted.ChangeId });
    }

    public async Task<ChangeInfo> SubmitAsync(string description, params MigrationFile[] files)
    {
        var request = new SubmitChangeRequest { Tier = Tier, Description = description };
        request.Files.AddRange(AppliedFiles);
        request.Files.AddRange(files);
        return await Alice.SubmitChangeAsync(request);
    }

    /// <summary>Polls the change (through whichever silo runs now) until <paramref name="condition"/> holds.</summary>
    public async Task<ChangeInfo> WaitAsync(string changeId, Func<ChangeInfo, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(5));
        ChangeInfo? last = null;
        while (DateTime.UtcNow < deadline)
        {
            Silo.ThrowIfExited();
            try
            {
                last = await Admin.GetChangeAsync(new ChangeRequest { ChangeId = changeId }, deadline: DateTime.UtcNow.AddSeconds(10));
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown)
            {
                // The silo is still starting.
            }
            if (last is not null && condition(last)) return last;
            await Task.Delay(250);
        }
        throw new TimeoutException($"change {changeId} did not reach the expected state in time; last: phase {last?.Phase}, halt '{last?.HaltReason}', " +
            $"history: {string.Join(" | ", last?.History.TakeLast(5).Select(h => h.Event) ?? [])}\n{Silo.LogTail()}");
    }

    /// <summary>The <c>ledger</c> table every test builds on, rolled out once (itself a full submit, approve, rollout).</summary>
    public async Task EnsureLedgerAsync()
    {
        if (AppliedFiles.Count > 0) return;
        var v = NextVersion();
        var forward = File($"V{v}__ledger.sql", "CREATE TABLE ledger (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL, at timestamptz NOT NULL DEFAULT now());\n");
        var change = await SubmitApprovedAsync("the ledger table", forward);
        await Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = change.ChangeId, BatchSize = 25, Concurrency = 8, Pause = new() });
        var done = await WaitAsync(change.ChangeId, Settled);
        Assert.True(done.Phase == ChangePhase.Completed, $"the ledger change ended {done.Phase}: {done.HaltReason}");
        AppliedFiles.Add(forward);
    }

    /// <summary>Rolls out the applied files alone (a no-op change), so a target that missed versions (drift) catches up.</summary>
    public async Task CatchUpAsync()
    {
        var change = await SubmitApprovedAsync("catch up");
        await Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = change.ChangeId, BatchSize = 25, Concurrency = 8, Pause = new() });
        var done = await WaitAsync(change.ChangeId, Settled);
        Assert.True(done.Phase == ChangePhase.Completed, $"the catch-up change ended {done.Phase}: {done.HaltReason}");
    }

    public static bool Settled(ChangeInfo c) => c.Phase is ChangePhase.Completed or ChangePhase.Halted or ChangePhase.RolledBack;

    public Task DisposeAsync() => _silos.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class ChangeFleetCollection : ICollectionFixture<ChangeFleetFixture>
{
    public const string Name = "changes";
}
