using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Protos.V1;
using Npgsql;

namespace ControlPlane.IntegrationTests.Backups;

/// <summary>A tier's backups as a test drives them through the gateway: start, follow, restore, look inside.</summary>
public sealed class BackupControl(BackupService.BackupServiceClient client, string tier, string passwordFile)
{
    public static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    public BackupService.BackupServiceClient Client => client;
    public string Tier => tier;

    public async Task<BackupPolicy> SetPolicyAsync(BackupPolicy patch) =>
        await client.SetBackupPolicyAsync(new SetBackupPolicyRequest { Tier = tier, Policy = patch });

    public async Task<IReadOnlyList<Backup>> ListAsync(bool includeDeleted = false) =>
        (await client.ListBackupsAsync(new ListBackupsRequest { Tier = tier, IncludeDeleted = includeDeleted })).Backups;

    /// <summary>Polls the operation until it finishes; throws when it does not within <see cref="JobTimeout"/>.</summary>
    public async Task<BackupOperation> WaitAsync(BackupOperation op, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? JobTimeout);
        while (op.State is not (BackupOperationState.Succeeded or BackupOperationState.Failed))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"operation {op.Id} still {op.State} after {timeout ?? JobTimeout}: {string.Join(" | ", op.Steps.Select(s => s.Message))}");
            await Task.Delay(250);
            op = await client.GetBackupOperationAsync(new GetBackupOperationRequest { OperationId = op.Id });
        }
        return op;
    }

    /// <summary>Takes a base backup and waits for it; fails the test with the operation's steps when it failed.</summary>
    public async Task<Backup> TakeAsync()
    {
        var op = await WaitAsync(await client.StartBackupAsync(new StartBackupRequest { Tier = tier }));
        if (op.State != BackupOperationState.Succeeded)
            throw new InvalidOperationException($"backup {op.Subject} failed: {op.Error} ({string.Join(" | ", op.Steps.Select(s => s.Message))})");
        return await client.GetBackupAsync(new GetBackupRequest { Tier = tier, BackupId = op.Subject });
    }

    public async Task<ArchiveStatus> ArchiveAsync() => await client.GetArchiveStatusAsync(new GetArchiveStatusRequest { Tier = tier });

    /// <summary>Waits until the archiver streams and has stored everything the primary had written when called.</summary>
    public async Task<ArchiveStatus> WaitForArchiveAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var first = await ArchiveAsync();
        var wanted = first.PrimaryLsn;
        while (true)
        {
            var status = await ArchiveAsync();
            if (wanted.Length == 0) wanted = status.PrimaryLsn;
            if (status.Streaming && wanted.Length > 0 && status.StoredLsn.Length > 0
                && ControlPlane.Postgres.Health.Lsn.Parse(status.StoredLsn) >= ControlPlane.Postgres.Health.Lsn.Parse(wanted))
                return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the WAL archive did not catch up with {wanted} within {timeout}: {status}");
            await Task.Delay(200);
        }
    }

    /// <summary>Restores and waits; answers the restored instance (ready) or throws with the operation's error.</summary>
    public async Task<RestoredInstance> RestoreAsync(RestoreTarget target, string backupId = "", RestoreInto into = RestoreInto.Instance)
    {
        var op = await WaitAsync(await client.RestoreAsync(new RestoreRequest { Tier = tier, Target = target, BackupId = backupId, Into = into }));
        if (op.State != BackupOperationState.Succeeded)
            throw new InvalidOperationException($"restore {op.Subject} failed: {op.Error} ({string.Join(" | ", op.Steps.Select(s => s.Message))})");
        var restores = await client.ListRestoresAsync(new ListRestoresRequest { Tier = tier });
        return restores.Restores.Single(r => r.Id == op.Subject);
    }

    public async Task DropAsync(RestoredInstance restored) =>
        await client.DropRestoreAsync(new DropRestoreRequest { Tier = tier, RestoreId = restored.Id });

    /// <summary>The restored instance as the chaos harness reaches instances (the tier's superuser and password).</summary>
    public ChaosInstance Instance(RestoredInstance restored) => new(restored.Id, restored.Host, restored.Port, passwordFile);

    /// <summary>One scalar from an instance of the tier or a restore of it.</summary>
    public static async Task<T> ScalarAsync<T>(ChaosInstance instance, string sql, params object[] args)
    {
        await using var connection = await instance.OpenAsync(10, 60, CancellationToken.None);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var a in args) command.Parameters.Add(new NpgsqlParameter { Value = a });
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
