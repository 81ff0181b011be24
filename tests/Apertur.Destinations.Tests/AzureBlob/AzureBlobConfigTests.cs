using System.Text.Json;
using Apertur.Destinations.AzureBlob;

namespace Apertur.Destinations.Tests.AzureBlob;

/// <summary>The azure_blob config as the API validates it, connection strings and SAS tokens included.</summary>
public sealed class AzureBlobConfigTests
{
    private const string Key = AzureBlobConfig.DevelopmentKey;

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void TryParse_AccountKey_DefaultEndpointAndTemplate()
    {
        AzureBlobConfig.TryParse(Json($$"""{"account_name":"photosacct","container_name":"images","account_key":"{{Key}}"}"""), out var config, out var problems)
            .ShouldBeTrue(string.Join(" ", problems));

        config!.Endpoint.ShouldBe(new Uri("https://photosacct.blob.core.windows.net"));
        config.BlobTemplate.ShouldBe("uploads/{session_id}/{image_index}.{ext}");
        config.BlobUrl("a b/c.jpg").AbsoluteUri.ShouldBe("https://photosacct.blob.core.windows.net/images/a%20b/c.jpg");
        config.ToString().ShouldNotContain(Key);
    }

    [Fact]
    public void TryParse_ConnectionString_SuppliesAccountKeyAndSovereignEndpoint()
    {
        var connection = $"DefaultEndpointsProtocol=https;AccountName=govacct;AccountKey={Key};EndpointSuffix=core.usgovcloudapi.net";

        AzureBlobConfig.TryParse(Json($$"""{"container_name":"images","connection_string":"{{connection}}","access_tier":"cool"}"""), out var config, out _)
            .ShouldBeTrue();

        config!.AccountName.ShouldBe("govacct");
        config.Endpoint.ShouldBe(new Uri("https://govacct.blob.core.usgovcloudapi.net"));
        config.AccountKey.ShouldBe(Key);
        config.AccessTier.ShouldBe("Cool");
    }

    [Fact]
    public void TryParse_DevelopmentStorage_TheEmulatorsAccount()
    {
        AzureBlobConfig.TryParse(Json("""{"container_name":"images","connection_string":"UseDevelopmentStorage=true"}"""), out var config, out _).ShouldBeTrue();

        config!.AccountName.ShouldBe("devstoreaccount1");
        config.Endpoint.ShouldBe(new Uri("http://127.0.0.1:10000/devstoreaccount1"));
    }

    [Fact]
    public void TryParse_SasUrlPasted_KeepsTheQuery()
    {
        AzureBlobConfig.TryParse(Json("""{"account_name":"photosacct","container_name":"images","sas_token":"https://photosacct.blob.core.windows.net/images?sv=2022-11-02&sp=cw&se=2030-01-01T00%3A00%3A00Z&sr=c&sig=abc%3D"}"""),
            out var config, out _).ShouldBeTrue();

        config!.SasToken.ShouldBe("sv=2022-11-02&sp=cw&se=2030-01-01T00%3A00%3A00Z&sr=c&sig=abc%3D");
        config.SasExpires.ShouldBe(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        config.AccountKey.ShouldBeNull();
    }

    [Fact]
    public void TryParse_ConnectionStringWithSas_EndpointWithoutTheSasAndTheSasAsCredential()
    {
        const string connection = "BlobEndpoint=https://photosacct.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sp=cw&se=2030-01-01T00%3A00%3A00Z&sr=c&sig=abc%3D";

        AzureBlobConfig.TryParse(Json($$"""{"account_name":"photosacct","container_name":"images","connection_string":"{{connection}}"}"""),
            out var config, out var problems).ShouldBeTrue(string.Join(" ", problems));

        config!.Endpoint.ShouldBe(new Uri("https://photosacct.blob.core.windows.net"));
        config.SasToken.ShouldBe("sv=2022-11-02&sp=cw&se=2030-01-01T00%3A00%3A00Z&sr=c&sig=abc%3D");
        config.SasExpires.ShouldBe(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        config.ToString().ShouldNotContain("sig=");
    }

    [Theory]
    [InlineData("""{"container_name":"images","account_key":"K"}""", "config.account_name is required")]
    [InlineData("""{"account_name":"Photos_Acct","container_name":"images","account_key":"K"}""", "config.account_name 'Photos_Acct' is not a storage account name")]
    [InlineData("""{"account_name":"photosacct","account_key":"K"}""", "config.container_name is required")]
    [InlineData("""{"account_name":"photosacct","container_name":"Images","account_key":"K"}""", "config.container_name 'Images' is not a container name")]
    [InlineData("""{"account_name":"photosacct","container_name":"a--b","account_key":"K"}""", "is not a container name")]
    [InlineData("""{"account_name":"photosacct","container_name":"images"}""", "config needs one credential: sas_token")]
    [InlineData("""{"account_name":"photosacct","container_name":"images","account_key":"K","sas_token":"sv=1&sig=2"}""", "give only one credential")]
    [InlineData("""{"account_name":"photosacct","container_name":"images","account_key":"not base64!"}""", "config.account_key is not an account key")]
    [InlineData("""{"account_name":"photosacct","container_name":"images","sas_token":"sp=w"}""", "config.sas_token is not a SAS token")]
    [InlineData("""{"account_name":"photosacct","container_name":"images","sas_token":"sv=2022-11-02&sp=r&sig=x"}""", "config.sas_token does not allow writing (sp=r)")]
    [InlineData("""{"account_name":"photosacct","container_name":"images","sas_token":"sv=2022-11-02&se=soon&sig=x"}""", "its expiry se='soon' is not a date")]
    [InlineData("""{"container_name":"images","connection_string":"nonsense"}""", "config.connection_string is not a connection string")]
    [InlineData("""{"container_name":"images","connection_string":"AccountName=photosacct"}""", "has neither AccountKey nor SharedAccessSignature")]
    [InlineData("""{"account_name":"other","container_name":"images","connection_string":"AccountName=photosacct;AccountKey=K"}""", "differs from AccountName 'photosacct'")]
    [InlineData("""{"account_name":"photosacct","container_name":"images","account_key":"K","endpoint":"ftp://x"}""", "config.endpoint must be an absolute http or https URL")]
    [InlineData("""{"account_name":"photosacct","container_name":"images","account_key":"K","blob_template":"/../x"}""", "must not contain '..'")]
    [InlineData("""{"account_name":"photosacct","container_name":"images","account_key":"K","access_tier":"Frozen"}""", "config.access_tier must be one of Hot, Cool, Cold, Archive")]
    public void TryParse_Problem_SaysWhatToFix(string json, string problem)
    {
        var config = Json(json.Replace("\"K\"", $"\"{Key}\"", StringComparison.Ordinal).Replace("AccountKey=K", $"AccountKey={Key}", StringComparison.Ordinal));

        AzureBlobConfig.TryParse(config, out var parsed, out var problems).ShouldBeFalse();

        parsed.ShouldBeNull();
        string.Join(" ", problems).ShouldContain(problem);
    }
}
