package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/routeloop/routeloop/internal/apperror"
	"github.com/routeloop/routeloop/internal/webhook"
)

// receiveWebhook answers a Standard Webhooks delivery: 200 with what was
// applied (again on a replay, with Routeloop-Replay: true).
func (a *API) receiveWebhook(c echo.Context) error {
	req := c.Request()
	if err := requireJSON(req); err != nil {
		return err
	}
	body, err := readBody(c, webhook.MaxBodyBytes, webhook.ErrTooLarge)
	if err != nil {
		return err
	}
	res, err := a.webhooks.Receive(req.Context(), webhook.Delivery{TenantID: c.Param("tenant_id"),
		ID: req.Header.Get(webhook.HeaderID), Timestamp: req.Header.Get(webhook.HeaderTimestamp),
		Signature: req.Header.Get(webhook.HeaderSignature), Body: body}, a.webhooks.Now())
	var busy *webhook.InProgress
	if errors.As(err, &busy) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(busy.RetryAfter.Seconds())))
	}
	if err != nil {
		return err
	}
	if res.Replay {
		c.Response().Header().Set("Routeloop-Replay", "true")
	}
	return c.JSONBlob(res.Status, res.Body)
}

// maxBatchBodyBytes bounds a sync batch: room for 5,000 objects.
const maxBatchBodyBytes = 16 << 20

func (a *API) syncBatch(c echo.Context) error {
	var in webhook.BatchInput
	if err := decodeLarge(c, &in, maxBatchBodyBytes); err != nil {
		return err
	}
	pr := principal(c)
	rep, err := a.webhooks.ApplyBatch(c.Request().Context(), webhook.Tenant{ID: pr.TenantID, Location: pr.Location, Currency: pr.Currency}, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

func (a *API) createWebhookSecret(c echo.Context) error {
	k, plain, err := a.webhooks.CreateSecret(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": k.ID, "secret": plain, "prefix": k.Prefix, "created_at": k.CreatedAt})
}

func (a *API) listWebhookSecrets(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	ks, next, err := a.webhooks.Secrets(c.Request().Context(), principal(c).TenantID, p)
	if err != nil {
		return err
	}
	return list(c, "webhook_secrets", ks, next)
}

func (a *API) revokeWebhookSecret(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return apperror.NotFound("webhook secret %s not found", c.Param("id"))
	}
	k, err := a.webhooks.RevokeSecret(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}
