using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Xunit;

namespace ControlPlane.Tests.Postgres;

public sealed class InstanceConfigTests
{
    [Fact]
    public void Primary_config_listens_on_loopback_tcp_only_and_has_no_upstream()
    {
        var conf = InstanceConfig.Render(5433, upstream: null);

        Assert.Contains("listen_addresses = '127.0.0.1'", conf, StringComparison.Ordinal);
        Assert.Contains("port = 5433", conf, StringComparison.Ordinal);
        Assert.Contains("unix_socket_directories = ''", conf, StringComparison.Ordinal);
        Assert.DoesNotContain("primary_conninfo", conf, StringComparison.Ordinal);
    }

    [Fact]
    public void Standby_config_names_upstream_slot_and_passfile_but_no_password()
    {
        var conf = InstanceConfig.Render(5434, new UpstreamTarget("127.0.0.1", 5433, "oltp_2", "oltp-2", "/d/oltp-2/replication.pgpass"));

        Assert.Contains(
            "primary_conninfo = 'host=''127.0.0.1'' port=''5433'' user=''replicator'' application_name=''oltp-2'' passfile=''/d/oltp-2/replication.pgpass'''",
            conf, StringComparison.Ordinal);
        Assert.Contains("primary_slot_name = 'oltp_2'", conf, StringComparison.Ordinal);
        Assert.DoesNotContain("password=", conf, StringComparison.Ordinal);
    }

    [Fact]
    public void A_standby_without_a_slot_streams_with_no_primary_slot_name()
    {
        var conf = InstanceConfig.Render(5434, new UpstreamTarget("127.0.0.1", 5433, SlotName: null, "restore-x", "/d/x/replication.pgpass"));

        Assert.Contains("primary_conninfo = ", conf, StringComparison.Ordinal);
        Assert.DoesNotContain("primary_slot_name", conf, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_settings_come_last_so_they_win()
    {
        var conf = InstanceConfig.Render(5433, upstream: null, ["recovery_target = 'immediate'"]);

        Assert.EndsWith("recovery_target = 'immediate'\n", conf, StringComparison.Ordinal);
    }

    [Fact]
    public void Quotes_in_paths_are_escaped_for_conninfo_and_for_the_config_file() =>
        Assert.Equal("'passfile=''/it\\\\''s'''", InstanceConfig.Quote(InstanceConfig.Pair("passfile", "/it's")));

    [Fact]
    public void Hba_allows_only_loopback_scram()
    {
        var hba = InstanceConfig.RenderHba();
        Assert.Contains("hostssl all all 127.0.0.1/32 scram-sha-256", hba, StringComparison.Ordinal);
        Assert.Contains("hostssl replication replicator 127.0.0.1/32 scram-sha-256", hba, StringComparison.Ordinal);
        Assert.DoesNotContain("trust", hba, StringComparison.Ordinal);
    }

    [Fact]
    public void A_simulated_host_listens_on_its_own_address()
    {
        var conf = InstanceConfig.Render(5433, upstream: null, listenAddress: "127.0.0.3");
        Assert.Contains("listen_addresses = '127.0.0.3'", conf, StringComparison.Ordinal);
    }

    [Fact]
    public void Hba_admits_the_other_hosts_networks_with_scram_besides_loopback()
    {
        var hba = InstanceConfig.RenderHba(["10.0.0.0/24"]);
        Assert.Contains("hostssl all all 127.0.0.1/32 scram-sha-256", hba, StringComparison.Ordinal);
        Assert.Contains("hostssl all all 10.0.0.0/24 scram-sha-256", hba, StringComparison.Ordinal);
        Assert.Contains("hostssl replication replicator 10.0.0.0/24 scram-sha-256", hba, StringComparison.Ordinal);
        Assert.DoesNotContain("trust", hba, StringComparison.Ordinal);
    }

    [Fact]
    public void Generated_passwords_are_url_safe_and_distinct()
    {
        var a = SecretFile.GeneratePassword();
        var b = SecretFile.GeneratePassword();
        Assert.NotEqual(a, b);
        Assert.True(a.Length >= 43);
        Assert.All(a, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
    }

    [Fact]
    public void Pgpass_line_escapes_colons_and_backslashes() =>
        Assert.Equal("*:*:*:replicator:a\\:b\\\\c\n", SecretFile.PgPassLine("replicator", "a:b\\c"));

    [Fact]
    public void Scram_verifier_has_the_form_postgres_stores_and_hides_the_password()
    {
        var verifier = SecretFile.ScramSha256Verifier("s3cret-value");
        Assert.Matches(@"^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$", verifier);
        Assert.DoesNotContain("s3cret-value", verifier, StringComparison.Ordinal);
    }

    [Fact]
    public void Replication_rows_parse_from_the_probe_json_aggregate()
    {
        var peers = ReplicaProbe.ParseReplication(
            """[{"application_name":"oltp-2","state":"streaming","sync_state":"async","sent_lsn":"0/3000148","replay_lsn":null}]""");
        var peer = Assert.Single(peers);
        Assert.Equal("oltp-2", peer.ApplicationName);
        Assert.Equal(Lsn.Parse("0/3000148"), peer.SentLsn);
        Assert.Null(peer.ReplayLsn);
    }
}
