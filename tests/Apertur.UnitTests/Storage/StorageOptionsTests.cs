using Apertur.Server.Storage;
using Shouldly;

namespace Apertur.UnitTests.Storage;

/// <summary>
/// Apertur:Storage settings: one sentence per bad value, naming the key (docs/deploy.md "Image store on S3", "A full disk");
/// what counts as a full disk.
/// </summary>
public sealed class StorageOptionsTests
{
    [Fact]
    public void Problems_LocalKind_NoneWhateverTheS3Settings() =>
        new StorageOptions { Kind = StorageKind.Local, S3 = new S3StorageOptions { ServiceUrl = "not a url" } }.Problems().ShouldBeEmpty();

    [Fact]
    public void Problems_S3WithoutBucketOrRegion_NamesEachKey()
    {
        var problems = new StorageOptions { Kind = StorageKind.S3 }.Problems();

        problems.ShouldContain(p => p.StartsWith("Apertur:Storage:S3:Bucket is required", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("Apertur:Storage:S3:Region is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Problems_BadUrlHalfCredentialsAndRootedPrefix_OneSentenceEach()
    {
        var problems = new StorageOptions
        {
            Kind = StorageKind.S3,
            S3 = new S3StorageOptions { Bucket = "photos", ServiceUrl = "ftp://store", AccessKeyId = "AKIA", Prefix = "/apertur/" },
        }.Problems();

        problems.Count.ShouldBe(3, string.Join(" | ", problems));
        problems.ShouldContain(p => p.Contains("Apertur:Storage:S3:ServiceUrl must be an http or https URL (got 'ftp://store')", StringComparison.Ordinal));
        problems.ShouldContain(p => p.Contains("Apertur:Storage:S3:SecretAccessKey", StringComparison.Ordinal));
        problems.ShouldContain(p => p.Contains("Apertur:Storage:S3:Prefix must not start with '/'", StringComparison.Ordinal));
    }

    [Fact]
    public void Problems_CompatibleStoreWithEndpointAndBucket_None() =>
        new StorageOptions
        {
            Kind = StorageKind.S3,
            S3 = new S3StorageOptions { Bucket = "photos", ServiceUrl = "http://127.0.0.1:9000", ForcePathStyle = true },
        }.Problems().ShouldBeEmpty();

    [Fact]
    public void MinFreeBytes_Default1GiBZeroAllowedNegativeNamed()
    {
        new StorageOptions().MinFreeBytes.ShouldBe(1L << 30);
        new StorageOptions { MinFreeBytes = 0 }.Problems().ShouldBeEmpty();

        var problems = new StorageOptions { MinFreeBytes = -1 }.Problems();

        problems.ShouldBe(["Apertur:Storage:MinFreeBytes must not be negative (got -1); 0 turns the free-space check off."]);
    }

    [Fact]
    public void StorageFull_EnospcQuotaAndSqliteFull_NotOtherFailures()
    {
        StorageFull.Is(new IOException("No space left on device : '/data/tmp/x.part'", 28)).ShouldBeTrue();
        StorageFull.Is(new IOException("Disk quota exceeded", 122)).ShouldBeTrue();
        StorageFull.Is(new InvalidOperationException("wrapped", new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13))).ShouldBeTrue();
        StorageFull.Is(new Microsoft.Data.Sqlite.SqliteException("database is locked", 5)).ShouldBeFalse();
        StorageFull.Is(new IOException("Input/output error", 5)).ShouldBeFalse();
        StorageFull.Is(new FileNotFoundException("gone")).ShouldBeFalse();

        var answer = StorageFull.Answer();
        (answer.Status, answer.Code, answer.RetryAfterSeconds).ShouldBe((507, "INSUFFICIENT_STORAGE", (int?)StorageFull.RetryAfterSeconds));
    }

    [Fact]
    public void KeyOf_PrefixImagesAndTheIdInHex() =>
        S3ImageStore.KeyOf("site-a/", Guid.Parse("01a234f9-7cb6-724f-add0-f383e304a7bf")).ShouldBe("site-a/images/01a234f97cb6724fadd0f383e304a7bf");
}
