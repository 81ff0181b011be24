using System.Text.Json;
using Apertur.Destinations.S3;

namespace Apertur.Destinations.Tests.S3;

/// <summary>The s3 config as the API validates it: problems in words, defaults for S3-compatible stores.</summary>
public sealed class S3ConfigTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void TryParse_AwsBucket_DefaultsTemplateAndVirtualHostStyle()
    {
        S3Config.TryParse(Json("""{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIA","secret_access_key":"s"}"""), out var config, out var problems)
            .ShouldBeTrue(string.Join(" ", problems));

        config!.KeyTemplate.ShouldBe("uploads/{session_id}/{image_index}.{ext}");
        config.Endpoint.ShouldBeNull();
        config.ForcePathStyle.ShouldBeFalse();
        config.EndpointText.ShouldBe("s3.eu-west-1.amazonaws.com");
        config.ToString().ShouldNotContain("\"s\"");
    }

    [Fact]
    public void TryParse_CompatibleStore_RegionOptionalAndPathStyleByDefault()
    {
        S3Config.TryParse(Json("""{"bucket":"photos","endpoint":"https://minio.example:9000","access_key_id":"a","secret_access_key":"s"}"""),
            out var config, out _).ShouldBeTrue();

        config!.Region.ShouldBe("us-east-1");
        config.ForcePathStyle.ShouldBeTrue();
        config.EndpointText.ShouldBe("https://minio.example:9000");
    }

    [Fact]
    public void TryParse_R2_AutoRegionAndVirtualHostWhenAsked()
    {
        S3Config.TryParse(Json("""{"bucket":"photos","region":"auto","endpoint":"https://acc.r2.cloudflarestorage.com","force_path_style":false,"access_key_id":"a","secret_access_key":"s","storage_class":"standard","server_side_encryption":"aes256"}"""),
            out var config, out _).ShouldBeTrue();

        config!.Region.ShouldBe("auto");
        config.ForcePathStyle.ShouldBeFalse();
        config.StorageClass.ShouldBe("STANDARD");
        config.ServerSideEncryption.ShouldBe("AES256");
    }

    [Theory]
    [InlineData("""[]""", "config must be a JSON object")]
    [InlineData("""{"region":"eu-west-1","access_key_id":"a","secret_access_key":"s"}""", "config.bucket is required")]
    [InlineData("""{"bucket":"x","region":"eu-west-1","access_key_id":"a","secret_access_key":"s"}""", "config.bucket 'x' is not a valid bucket name")]
    [InlineData("""{"bucket":"photos","access_key_id":"a","secret_access_key":"s"}""", "config.region is required")]
    [InlineData("""{"bucket":"photos","region":"EU West","access_key_id":"a","secret_access_key":"s"}""", "config.region 'EU West' is not a region name")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","secret_access_key":"s"}""", "config.access_key_id is required")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":""}""", "config.secret_access_key must not be empty")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":7}""", "config.secret_access_key must be a string")]
    [InlineData("""{"bucket":"photos","endpoint":"ftp://x","access_key_id":"a","secret_access_key":"s"}""", "config.endpoint must be an absolute http or https URL")]
    [InlineData("""{"bucket":"photos","endpoint":"https://u:p@x","access_key_id":"a","secret_access_key":"s"}""", "must not carry credentials")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","force_path_style":"maybe"}""", "config.force_path_style must be true or false")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","key_template":"{nope}"}""", "unknown placeholder {nope}")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","key_template":"a/../{image_id}"}""", "must not contain '..'")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","storage_class":"cold storage"}""", "config.storage_class 'COLD STORAGE' is not a storage class name")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","server_side_encryption":"rot13"}""", "config.server_side_encryption must be one of AES256, aws:kms, aws:kms:dsse")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","sse_kms_key_id":"k"}""", "config.sse_kms_key_id needs config.server_side_encryption aws:kms")]
    public void TryParse_Problem_SaysWhatToFix(string json, string problem)
    {
        S3Config.TryParse(Json(json), out var config, out var problems).ShouldBeFalse();

        config.ShouldBeNull();
        string.Join(" ", problems).ShouldContain(problem);
    }
}
