using ControlPlane.Grains.Changes;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Migrations.Parity;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Parity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Grains.Parity;

/// <summary>
/// Schema parity of one tier. Reads schemas on the tier's current primary (one short connection per read, read-only
/// repeatable-read), and on a timer compares every tenant placed on the tier as a schema with the template schema of
/// the tier's database (<see cref="ParityOptions.TemplateSchema"/>): the result is persisted, then reported to the
/// alert engine (rule SchemaDrift), which resolves an alert once its schema matches again.
/// </summary>
public sealed class ParityGrain(
    [PersistentState("parity", FleetKeys.Storage)] IPersistentState<ParityState> state,
    IOptions<ParityOptions> options,
    ILogger<ParityGrain> logger) : Grain, IParityGrain
{
    private readonly ParityOptions _options = options.Value;
    private string _env = "";
    private string _tier = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var parts = this.GetPrimaryKeyString().Split('/');
        (_env, _tier) = (parts[0], parts[^1]);
        if (_options.Interval > TimeSpan.Zero)
        {
            this.RegisterGrainTimer(ScheduledCheck, new GrainTimerCreationOptions
            {
                DueTime = _options.Interval < TimeSpan.FromSeconds(10) ? _options.Interval : TimeSpan.FromSeconds(10),
                Period = _options.Interval,
                KeepAlive = true,
            });
        }
        return Task.CompletedTask;
    }

    public Task Ensure() => Task.CompletedTask;

    public Task<TierDriftReport?> GetLast() => Task.FromResult(state.State.Last);

    public async Task<ParityRead> Read(string database, string schema)
    {
        ReplicaEndpoint primary;
        try
        {
            primary = await ChangeTargets.PrimaryAsync(GrainFactory, _env, _tier);
        }
        catch (InvalidOperationException e)
        {
            return new ParityRead("", ParityReadFailure.Unavailable, e.Message, database);
        }
        var db = database.Length > 0 ? database : primary.Database;
        try
        {
            using var deadline = new CancellationTokenSource(_options.Timeout);
            var snapshot = await SchemaSnapshotSession.ReadAsync(primary, db, schema, _options.Timeout, deadline.Token);
            return new ParityRead(snapshot.ToJson(), ParityReadFailure.None, "", db);
        }
        catch (DatabaseNotFoundException e)
        {
            return new ParityRead("", ParityReadFailure.DatabaseNotFound, $"{e.Message} on tier {_tier}", db);
        }
        catch (SchemaNotFoundException e)
        {
            return new ParityRead("", ParityReadFailure.SchemaNotFound, $"{e.Message} in database {db} of tier {_tier}", db);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or OperationCanceledException)
        {
            // Npgsql's messages name host and port, never the password.
            return new ParityRead("", ParityReadFailure.Unavailable, $"could not read the schema on the primary of tier {_tier}: {e.Message}", db);
        }
    }

    public async Task<TierDriftReport> Check(bool scheduled)
    {
        var report = await RunCheckAsync(scheduled);
        state.State.Last = report;
        var (readings, breached) = ParityDrift.Readings(report, state.State.Alerted, report.CheckedAt);
        state.State.Alerted = breached;
        // Persisted before it is reported: an alert never refers to a check the status cannot show.
        await state.WriteStateAsync();
        if (readings.Count > 0)
        {
            try
            {
                await GrainFactory.GetGrain<IAlertGrain>(_env).Report(readings);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                logger.LogDebug(ex, "Schema drift readings of {Tier} not reported to the alert engine", _tier);
            }
        }
        return report;
    }

    private async Task<TierDriftReport> RunCheckAsync(bool scheduled)
    {
        var now = DateTimeOffset.UtcNow;
        var template = _options.TemplateSchema;
        IReadOnlyList<string> schemas;
        try
        {
            schemas = [.. (await ChangeTargets.DiscoverAsync(GrainFactory, _env, _tier)).Where(s => s != ChangeTargets.SharedSchema && s != template)];
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return Failed($"could not list the tier's tenants: {e.Message}");
        }
        var read = await Read("", template);
        if (read.Failure == ParityReadFailure.SchemaNotFound)
            return new TierDriftReport(_env, _tier, now, template, false, "", [], "", scheduled);
        if (read.Failure != ParityReadFailure.None) return Failed(read.Error);
        var templateSnapshot = SchemaSnapshot.FromJson(read.Json);
        var results = new List<SchemaDriftResult>();
        foreach (var schema in schemas)
        {
            var tenant = await Read("", schema);
            results.Add(tenant.Failure switch
            {
                ParityReadFailure.None => ParityDrift.Compare(schema, SchemaSnapshot.FromJson(tenant.Json), templateSnapshot, _options.SummaryLines),
                _ => new SchemaDriftResult(schema, 0, [], tenant.Error),
            });
        }
        return new TierDriftReport(_env, _tier, now, template, true, templateSnapshot.Hash(), results, "", scheduled);

        TierDriftReport Failed(string error) => new(_env, _tier, now, template, false, "", [], error, scheduled);
    }

    private async Task ScheduledCheck(CancellationToken ct)
    {
        try
        {
            var report = await Check(scheduled: true);
            if (report.Error.Length > 0) logger.LogInformation("Scheduled drift check of {Tier} could not run: {Error}", _tier, report.Error);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or OrleansException or InconsistentStateException)
        {
            logger.LogWarning("Scheduled drift check of {Tier} failed: {Error}", _tier, ex.Message);
        }
    }
}
