using System.Globalization;
using System.Text;

namespace ControlPlane.Postgres.Instances;

/// <summary>Where a standby streams from.</summary>
/// <param name="SlotName">Physical slot on the upstream; null streams without one (a restored standby: what the
/// upstream has recycled comes from the WAL archive through restore_command).</param>
/// <param name="PassFile">A 0600 libpq password file for the replicator role, outside the data directory.</param>
public sealed record UpstreamTarget(string Host, int Port, string? SlotName, string ApplicationName, string PassFile);

/// <summary>
/// Renders the files the control plane owns in a data directory: <c>controlplane.conf</c> (included from
/// postgresql.conf, regenerated before every start) and <c>pg_hba.conf</c>. Pure, so it is unit-tested.
/// </summary>
public static class InstanceConfig
{
    public const string FileName = "controlplane.conf";
    public const string IncludeLine = "include 'controlplane.conf'";
    public const string ReplicationUser = "replicator";
    public const string LoopbackAddress = "127.0.0.1";

    /// <param name="extraSettings">Lines appended verbatim after the control plane's own (recovery settings of a restore).</param>
    /// <param name="listenAddress">The host's address (127.0.0.1 on one machine; 127.0.0.x for a simulated host, docs/hosts.md).</param>
    public static string Render(int port, UpstreamTarget? upstream, IReadOnlyList<string>? extraSettings = null, string listenAddress = LoopbackAddress)
    {
        var b = new StringBuilder();
        b.AppendLine("# Written by the control plane before every start; edits here are overwritten.");
        b.AppendLine(CultureInfo.InvariantCulture, $"listen_addresses = {Quote(listenAddress)}");
        b.AppendLine(CultureInfo.InvariantCulture, $"port = {port}");
        // TCP only: no socket files, so no socket path-length limit and no /var/run permission issues.
        b.AppendLine("unix_socket_directories = ''");
        b.AppendLine("wal_level = replica");
        b.AppendLine("max_wal_senders = 10");
        b.AppendLine("max_replication_slots = 10");
        b.AppendLine("hot_standby = on");
        b.AppendLine("hot_standby_feedback = on");
        // pg_rewind needs hint bits WAL-logged (checksums are on too, which also suffices).
        b.AppendLine("wal_log_hints = on");
        // Failure detection. A SIGSTOPped (hung) primary keeps its standbys' TCP connections open: the kernel still
        // ACKs, so with the defaults (60s) their WAL receivers would go on reporting 'streaming' for a minute, and
        // the failover policy reads "standbys still stream from the primary" as evidence that it is alive. A
        // receiver hearing nothing for 2s drops the connection (it pings after half that, and a live walsender
        // answers at once), reports status every second, and retries every 500ms; a walsender drops a silent
        // standby after 5s. Cost: a network stall longer than 2s costs a reconnect, nothing more.
        b.AppendLine("wal_receiver_timeout = '2s'");
        b.AppendLine("wal_receiver_status_interval = '1s'");
        b.AppendLine("wal_retrieve_retry_interval = '500ms'");
        b.AppendLine("wal_sender_timeout = '5s'");
        b.AppendLine("shared_buffers = '32MB'");
        b.AppendLine("max_connections = 100");
        b.AppendLine("password_encryption = 'scram-sha-256'");
        // Hardening (docs/hardening.md): TLS with the instance's own certificate (InstanceCertificate), TLS 1.2 at
        // least and no weak cipher classes; pg_hba.conf admits TCP only as hostssl.
        b.AppendLine("ssl = on");
        b.AppendLine(CultureInfo.InvariantCulture, $"ssl_cert_file = {Quote(InstanceCertificate.CertificateFile)}");
        b.AppendLine(CultureInfo.InvariantCulture, $"ssl_key_file = {Quote(InstanceCertificate.KeyFile)}");
        b.AppendLine("ssl_min_protocol_version = 'TLSv1.2'");
        b.AppendLine("ssl_ciphers = 'HIGH:!aNULL:!MD5'");
        b.AppendLine("logging_collector = off");
        b.AppendLine("log_line_prefix = '%m [%p] %q%u@%d '");
        // The audit trail: who connected and for how long, and every schema change. Costs a few lines per session
        // (the probes' fresh sessions included) in postgres.log.
        b.AppendLine("log_connections = on");
        b.AppendLine("log_disconnections = on");
        b.AppendLine("log_statement = 'ddl'");
        b.AppendLine("log_checkpoints = on");
        if (upstream is not null)
        {
            var conninfo = string.Join(' ',
                Pair("host", upstream.Host),
                Pair("port", upstream.Port.ToString(CultureInfo.InvariantCulture)),
                Pair("user", ReplicationUser),
                Pair("application_name", upstream.ApplicationName),
                Pair("passfile", upstream.PassFile));
            b.AppendLine(CultureInfo.InvariantCulture, $"primary_conninfo = {Quote(conninfo)}");
            if (upstream.SlotName is not null) b.AppendLine(CultureInfo.InvariantCulture, $"primary_slot_name = {Quote(upstream.SlotName)}");
            // Follow the upstream across promotions (a repointed or rejoined standby must switch timelines).
            b.AppendLine("recovery_target_timeline = 'latest'");
        }
        foreach (var line in extraSettings ?? []) b.AppendLine(line);
        return b.ToString();
    }

    /// <summary>
    /// TCP over TLS (hostssl) with SCRAM only, from loopback and from <paramref name="peers"/> (CIDR: the other hosts of the fleet,
    /// whose silos and standbys connect here): the control plane's superuser and the replicator.
    /// </summary>
    public static string RenderHba(IReadOnlyList<string>? peers = null)
    {
        var b = new StringBuilder("# Written by the control plane.\n");
        foreach (var source in new[] { LoopbackAddress + "/32" }.Concat(peers ?? []).Distinct(StringComparer.Ordinal))
        {
            b.Append(CultureInfo.InvariantCulture, $"hostssl all all {source} scram-sha-256\n");
            b.Append(CultureInfo.InvariantCulture, $"hostssl replication {ReplicationUser} {source} scram-sha-256\n");
        }
        return b.ToString();
    }

    /// <summary>The settings that say where a standby streams from: the control plane writes them in controlplane.conf.</summary>
    public static readonly IReadOnlyList<string> UpstreamSettings = ["primary_conninfo", "primary_slot_name"];

    /// <summary>
    /// <paramref name="autoConf"/> (postgresql.auto.conf) without its lines setting <see cref="UpstreamSettings"/>, and
    /// whether there were any. postgresql.auto.conf is read after controlplane.conf, so an <c>ALTER SYSTEM SET
    /// primary_conninfo</c> (by hand, or by an SQL-only repoint) silently outranks the upstream the control plane writes.
    /// </summary>
    public static (string Text, bool Changed) WithoutUpstreamOverrides(string autoConf)
    {
        ArgumentNullException.ThrowIfNull(autoConf);
        var lines = autoConf.Split('\n');
        var kept = lines.Where(line => !UpstreamSettings.Any(name => SetsSetting(line, name))).ToList();
        return kept.Count == lines.Length ? (autoConf, false) : (string.Join('\n', kept), true);
    }

    private static bool SetsSetting(string line, string name)
    {
        var trimmed = line.TrimStart();
        if (!trimmed.StartsWith(name, StringComparison.OrdinalIgnoreCase)) return false;
        var rest = trimmed.AsSpan(name.Length).TrimStart();
        return rest.Length > 0 && rest[0] == '=';
    }

    /// <summary>A postgresql.conf string literal.</summary>
    internal static string Quote(string value) => "'" + value.Replace("\\", "\\\\").Replace("'", "''") + "'";

    /// <summary>A libpq conninfo keyword=value pair, value quoted.</summary>
    internal static string Pair(string key, string value) => $"{key}='{value.Replace("\\", "\\\\").Replace("'", "\\'")}'";
}
