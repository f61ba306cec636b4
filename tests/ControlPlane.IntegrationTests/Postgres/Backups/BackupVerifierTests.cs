using System.Formats.Tar;
using System.Text;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

[Collection(BackupCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class BackupVerifierTests(BackupFixture fixture)
{
    private readonly BackupVerifier _verifier = new(NullLogger.Instance);

    private string Scratch => Path.Combine(fixture.Root, "scratch");

    [Fact]
    public async Task A_good_backup_verifies_and_its_scratch_copy_is_removed()
    {
        var result = await _verifier.VerifyAsync(fixture.Backup.Directory, Scratch, CancellationToken.None);

        Assert.True(result.Passed, result.Detail);
        Assert.Contains("successfully verified", result.Detail, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Scratch));
    }

    [Fact]
    public async Task A_stored_file_that_differs_from_its_manifest_checksum_fails_verification()
    {
        var plain = await new BaseBackupRunner(NullLogger.Instance).TakeAsync(
            new BaseBackupRequest("plain", fixture.Source, fixture.Repository) { Compression = "none" }, null, CancellationToken.None);
        RewriteEntry(Path.Combine(plain.Directory, "base.tar"), "PG_VERSION", "14\n");

        var result = await _verifier.VerifyAsync(plain.Directory, Scratch, CancellationToken.None);

        Assert.False(result.Passed);
        Assert.Contains("checksum mismatch for file \"PG_VERSION\"", result.Detail, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Scratch));
    }

    [Fact]
    public async Task A_truncated_archive_fails_verification_with_the_extraction_error()
    {
        var copy = fixture.Repository.BackupDirectory("truncated");
        await ProcessRunner.RunCheckedAsync(new ProcessSpec("cp", ["-a", fixture.Backup.Directory, copy]), CancellationToken.None);
        var archive = Path.Combine(copy, "base.tar.lz4");
        await using (var stream = new FileStream(archive, FileMode.Open)) stream.SetLength(stream.Length / 2);

        var result = await _verifier.VerifyAsync(copy, Scratch, CancellationToken.None);

        Assert.False(result.Passed);
        Assert.Contains("could not be extracted", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verifying_a_missing_backup_throws_naming_it()
    {
        var missing = fixture.Repository.BackupDirectory("never-taken");

        var e = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => _verifier.VerifyAsync(missing, Scratch, CancellationToken.None));

        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Replaces the content of one file inside a tar archive by same-sized other bytes.</summary>
    private static void RewriteEntry(string archive, string name, string content)
    {
        var rewritten = archive + ".new";
        using (var input = File.OpenRead(archive))
        using (var output = File.Create(rewritten))
        {
            using var reader = new TarReader(input);
            using var writer = new TarWriter(output);
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                if (entry.Name == name) entry.DataStream = new MemoryStream(Encoding.ASCII.GetBytes(content));
                writer.WriteEntry(entry);
            }
        }
        File.Move(rewritten, archive, overwrite: true);
    }
}
