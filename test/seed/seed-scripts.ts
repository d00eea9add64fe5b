/**
 * The seed's two scripts and its kubectl command, copied character for character from
 * `../shared/seed/aks-acr-authentication.txt` (lines 17-24 and 34-46, and the kubectl line). The tests run them
 * unchanged; the test "the scripts are the seed's" checks them against the seed file when it is there.
 */

/** "Grant AKS access to ACR": the cluster's service principal gets AcrPull on the registry. */
export const GRANT_AKS_ACCESS = String.raw`# Get the id of the service principal configured for AKS
CLIENT_ID=$(az aks show --resource-group $AKS_RESOURCE_GROUP --name $AKS_CLUSTER_NAME --query "servicePrincipalProfile.clientId" --output tsv)

# Get the ACR registry resource id
ACR_ID=$(az acr show --name $ACR_NAME --resource-group $ACR_RESOURCE_GROUP --query "id" --output tsv)

# Create role assignment
az role assignment create --assignee $CLIENT_ID --role acrpull --scope $ACR_ID`;

/** "Access with Kubernetes secret": a new service principal with AcrPull, whose credentials go into a pull secret. */
export const CREATE_PULL_SECRET_PRINCIPAL = String.raw`# Populate the ACR login server and resource id.
ACR_LOGIN_SERVER=$(az acr show --name $ACR_NAME --query loginServer --output tsv)
ACR_REGISTRY_ID=$(az acr show --name $ACR_NAME --query id --output tsv)

# Create acrpull role assignment with a scope of the ACR resource.
SP_PASSWD=$(az ad sp create-for-rbac --name http://$SERVICE_PRINCIPAL_NAME --role acrpull --scopes $ACR_REGISTRY_ID --query password --output tsv)

# Get the service principal client id.
CLIENT_ID=$(az ad sp show --id http://$SERVICE_PRINCIPAL_NAME --query appId --output tsv)

# Output used when creating Kubernetes secret.
echo "Service principal ID: $CLIENT_ID"
echo "Service principal password: $SP_PASSWD"`;

/** The secret, with placeholders the reader replaces (the seed's own words). */
export const KUBECTL_CREATE_SECRET = String.raw`kubectl create secret docker-registry acr-auth --docker-server <acr-login-server> --docker-username <service-principal-ID> --docker-password <service-principal-password> --docker-email <email-address>`;
