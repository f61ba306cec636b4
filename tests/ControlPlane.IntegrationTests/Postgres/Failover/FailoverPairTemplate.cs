using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Postgres.Failover;

/// <summary>
/// A stopped primary and standby built once (initdb, base backup) on first use. Every failover test copies the
/// pair into its own directory and starts the copy on fresh ports, so tests may kill, promote and rewind at will
/// without disturbing each other (a copy costs two starts instead of an initdb and a base backup).
/// </summary>
public sealed class FailoverPairTemplate : IAsyncLifetime
{
    public const string Tier = "failover";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _built;
    private int _pairs;

    public string Root { get; } = Directory.CreateTempSubdirectory("cp-failover-").FullName;
    public string SuperuserPasswordFile => Path.Combine(Root, "secrets", "failover.superuser");
    public string ReplicatorPasswordFile => Path.Combine(Root, "secrets", "failover.replicator");

    /// <summary>The slot a replica streams through, on whichever instance is its primary.</summary>
    public static string SlotOf(string replica) => replica.Replace('-', '_');

    /// <summary>A running copy of the template: fo-1 primary, fo-2 streaming from it.</summary>
    public async Task<FailoverPair> CreatePairAsync(ITestOutputHelper output)
    {
        await EnsureBuiltAsync();
        var logger = new TestOutputLogger(output);
        var pair = new FailoverPair(this, Path.Combine(Root, $"pair-{Interlocked.Increment(ref _pairs)}"), logger);
        try
        {
            Directory.CreateDirectory(pair.Directory);
            foreach (var name in new[] { "fo-1", "fo-2" })
            {
                await ProcessRunner.RunCheckedAsync(
                    new ProcessSpec("cp", ["-a", Path.Combine(Root, "template", name), Path.Combine(pair.Directory, name)]) { Timeout = TimeSpan.FromSeconds(30) },
                    CancellationToken.None);
            }
            var primary = pair.Add("fo-1");
            var standby = pair.Add("fo-2");
            await primary.StartAsync(CancellationToken.None);
            standby.SetUpstream(primary.Endpoint, SlotOf(standby.Name));
            await standby.StartAsync(CancellationToken.None);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    internal LocalInstanceDriver Driver(string directory, string name, ILogger logger) =>
        new(new LocalInstanceOptions(Tier, name, Path.Combine(directory, name, "data"), FreePort.Pick(), SuperuserPasswordFile, ReplicatorPasswordFile),
            logger);

    private async Task EnsureBuiltAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_built) return;
            Directory.CreateDirectory(Path.Combine(Root, "secrets"));
            await SecretFile.EnsureAsync(SuperuserPasswordFile, CancellationToken.None);
            await SecretFile.EnsureAsync(ReplicatorPasswordFile, CancellationToken.None);
            var directory = Path.Combine(Root, "template");
            var primary = Driver(directory, "fo-1", NullLogger.Instance);
            var standby = Driver(directory, "fo-2", NullLogger.Instance);
            try
            {
                await primary.InitPrimaryAsync(CancellationToken.None);
                await standby.CreateStandbyAsync(primary.Endpoint, SlotOf(standby.Name), CancellationToken.None);
                await standby.StopAsync(StopMode.Fast, CancellationToken.None);
                await primary.StopAsync(StopMode.Fast, CancellationToken.None);
            }
            catch
            {
                await standby.FenceAsync(CancellationToken.None);
                await primary.FenceAsync(CancellationToken.None);
                throw;
            }
            _built = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        _gate.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The instances of one test; all are fenced (killed, even when frozen) and deleted at the end.</summary>
public sealed class FailoverPair(FailoverPairTemplate template, string directory, TestOutputLogger logger) : IAsyncDisposable
{
    private readonly List<LocalInstanceDriver> _drivers = [];

    public string Directory { get; } = directory;
    public TestOutputLogger Log => logger;
    public LocalInstanceDriver Primary => _drivers[0];
    public LocalInstanceDriver Standby => _drivers[1];

    /// <summary>A driver for another instance in this pair's directory (not created yet).</summary>
    public LocalInstanceDriver Add(string name)
    {
        var driver = template.Driver(Directory, name, logger);
        _drivers.Add(driver);
        return driver;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var driver in _drivers)
        {
            try { await driver.FenceAsync(CancellationToken.None); }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException) { logger.LogError("cleanup of {Replica}: {Error}", driver.Name, e.Message); }
        }
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Short SQL sessions as the endpoint's superuser.</summary>
internal static class Sql
{
    public static async Task<NpgsqlConnection> OpenAsync(ReplicaEndpoint endpoint)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host, Port = endpoint.Port, Database = endpoint.Database, Username = endpoint.User,
            Password = SecretFile.Read(endpoint.PasswordFile), Pooling = false, Timeout = 10, CommandTimeout = 15,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task<object?> ScalarAsync(ReplicaEndpoint endpoint, string sql)
    {
        await using var connection = await OpenAsync(endpoint);
        return await ScalarAsync(connection, sql);
    }

    public static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = 15 };
        return await cmd.ExecuteScalarAsync();
    }
}

/// <summary>Driver logs into the test output, so a failing run shows every step (and which rejoin path ran).</summary>
public sealed class TestOutputLogger(ITestOutputHelper output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        try { output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} {formatter(state, exception)}"); }
        catch (InvalidOperationException) { } // the test has finished; nothing to write to
    }
}
