using Apertur.Server.Storage;
using Shouldly;

namespace Apertur.UnitTests.Storage;

/// <summary>Apertur:Storage settings: one sentence per bad value, naming the key (docs/deploy.md "Image store on S3").</summary>
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
    public void KeyOf_PrefixImagesAndTheIdInHex() =>
        S3ImageStore.KeyOf("site-a/", Guid.Parse("01a234f9-7cb6-724f-add0-f383e304a7bf")).ShouldBe("site-a/images/01a234f97cb6724fadd0f383e304a7bf");
}
