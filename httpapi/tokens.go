package httpapi

import (
	"net/http"

	"github.com/firmward/firmward"
)

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Name string        `json:"name"`
	Role firmward.Role `json:"role"`
}

// TokenCreated answers POST /api/v1/tokens: Secret is shown this once.
type TokenCreated struct {
	Token  *firmward.Token `json:"token"`
	Secret string          `json:"secret"`
}

// TokenList answers GET /api/v1/tokens.
type TokenList struct {
	Tokens []*firmward.Token `json:"tokens"`
}

func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	tok, ok := tokenFrom(r.Context())
	if !ok {
		s.writeError(w, r, firmward.Errorf(firmward.EUNAUTHORIZED, "no token in this request"))
		return
	}
	s.writeJSON(w, r, http.StatusOK, tok)
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.tokens.FindTokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if tokens == nil {
		tokens = []*firmward.Token{}
	}
	s.writeJSON(w, r, http.StatusOK, TokenList{Tokens: tokens})
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	role, err := firmward.ParseRole(string(req.Role))
	if err != nil {
		s.writeError(w, r, &firmward.Error{
			Code: firmward.EINVALID, Message: firmward.ErrorMessage(err),
			Details: []firmward.ErrorDetail{{Field: "role", Value: string(req.Role), Reason: "must be one of viewer, operator, admin"}},
		})
		return
	}
	tok, secret, err := s.tokens.CreateToken(r.Context(), req.Name, role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, TokenCreated{Token: tok, Secret: secret})
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.tokens.RevokeToken(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
